// The commands' side of the remote cache: attach it (a bad URL is a usage error) and report what a
// `remote.push: auto` push did when a run or sweep ends.
import type { Project } from '../project/analyze.js';
import { attachRemote } from '../remote/attach.js';
import { autoPush } from '../remote/auto-push.js';
import type { RemoteSpec } from '../remote/config.js';
import { autoPushLines } from '../report/remote-view.js';
import { UsageError } from './exit-codes.js';
import type { Terminal } from './terminal.js';

export function useRemote(project: Project, spec: RemoteSpec | undefined): void {
  const problem = attachRemote(project, spec);
  if (problem) throw new UsageError(problem);
}

export async function pushAfterRun(project: Project, runIds: readonly string[], term: Terminal): Promise<void> {
  const pushed = await autoPush(project, runIds);
  if (pushed) term.out.write(autoPushLines(pushed, project.remote!.url, term.style).join('\n') + '\n');
}
