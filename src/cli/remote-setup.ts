// The commands' side of the remote cache: attach it to the project when the flag, the variable or
// the spec names one (a bad URL is a usage error), and report what a `remote.push: auto` push did
// when a run or sweep ends.
import type { Project } from '../project/open.js';
import { chooseRemote } from '../remote/config.js';
import { RemoteCache } from '../remote/remote-cache.js';
import { S3Remote } from '../remote/s3.js';
import type { RemoteSpec } from '../spec/remote-schema.js';
import { autoPushLines } from '../report/remote-view.js';
import { autoPush } from '../run/remote-push.js';
import { UsageError } from './exit-codes.js';
import type { Terminal } from './terminal.js';

export function useRemote(project: Project, spec: RemoteSpec | undefined): void {
  const choice = chooseRemote(spec);
  if (!choice.ok) throw new UsageError(choice.message);
  project.remote = choice.config ? new RemoteCache(choice.config, new S3Remote(choice.config), project.objects, project.entries) : undefined;
}

export async function pushAfterRun(project: Project, runIds: readonly string[], term: Terminal): Promise<void> {
  const pushed = await autoPush(project, runIds);
  if (pushed) term.out.write(autoPushLines(pushed, project.remote!.url, term.style).join('\n') + '\n');
}
