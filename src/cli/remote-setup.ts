// The commands' side of the remote cache: attach it to the project when the flag, the variable or
// the spec names one (a bad URL is a usage error), and report what a `remote.push: auto` push did
// when a run or sweep ends.
import type { Project } from '../project/open.js';
import type { RemoteSpec } from '../pipeline/remote-schema.js';
import { autoPushLines } from '../report/remote-view.js';
import { autoPush } from '../run/remote-push.js';
import { REMOTE_ENV } from '../remote/env.js';
import { UsageError } from './exit-codes.js';
import type { Terminal } from './terminal.js';

/**
 * Attaches the remote cache when one is named. The S3 client and the remote's schema load only
 * then: for every command of a project without a remote they cost more than the command itself.
 */
export async function useRemote(project: Project, spec: RemoteSpec | undefined): Promise<void> {
  if (spec === undefined && !process.env[REMOTE_ENV]) { project.remote = undefined; return; }
  const [{ chooseRemote }, { RemoteCache }, { S3Remote }] = await Promise.all([import('../remote/config.js'), import('../remote/remote-cache.js'), import('../remote/s3.js')]);
  const choice = chooseRemote(spec);
  if (!choice.ok) throw new UsageError(choice.message);
  project.remote = choice.config ? new RemoteCache(choice.config, new S3Remote(choice.config), project.objects, project.entries) : undefined;
}

export async function pushAfterRun(project: Project, runIds: readonly string[], term: Terminal): Promise<void> {
  const pushed = await autoPush(project, runIds);
  if (pushed) term.out.write(autoPushLines(pushed, project.remote!.url, term.style).join('\n') + '\n');
}
