// Gives a project its remote cache, when the flag, the variable or the spec names one.
import type { Project } from '../project/analyze.js';
import { chooseRemote, type RemoteSpec } from './config.js';
import { RemoteCache } from './remote-cache.js';
import { S3Remote } from './s3.js';

/** Returns an error message for a bad `--remote` / MASSFLOW_REMOTE value (the spec's is checked by its schema). */
export function attachRemote(project: Project, spec: RemoteSpec | undefined): string | undefined {
  const choice = chooseRemote(spec);
  if (!choice.ok) return choice.message;
  project.remote = choice.config ? new RemoteCache(choice.config, new S3Remote(choice.config), project.objects, project.entries) : undefined;
  return undefined;
}
