// Where massflow keeps what is shared by every project of one user: the TensorFlow C library from
// the PyPI wheel and the pinned MLflow virtualenv (`massflow setup`). One copy per user, not per
// project: the library is ~300 MB and the virtualenv ~400 MB.
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** Overrides the location (e.g. a shared disk on a cluster). */
export const CACHE_DIR_ENV = 'MASSFLOW_CACHE_DIR';

/** $MASSFLOW_CACHE_DIR, else $XDG_CACHE_HOME/massflow, else ~/.cache/massflow (the XDG default). */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const own = env[CACHE_DIR_ENV];
  if (own) return resolve(own);
  // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'massflow');
}
