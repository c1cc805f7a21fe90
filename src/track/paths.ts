// Artifact names: normalized to a relative POSIX path under the run's artifact root. A name that
// would land outside that root is refused before anything is written or sent.
import { basename } from 'node:path';
import { err, ok, type Result } from '../core/result.js';

/**
 * `plots\\loss.png` -> `plots/loss.png`, `./a//b/../c.txt` -> `a/c.txt`. Rejects absolute paths,
 * drive letters, NUL, and anything that climbs above the root (`../x`, `a/../../x`).
 */
export function normalizeArtifactPath(name: string): Result<string, string> {
  if (name.includes('\0')) return err(`artifact path ${JSON.stringify(name)} contains a NUL character`);
  // Windows separators from a stage written there mean the same thing; a backslash in a POSIX file
  // name would only produce a confusing artifact tree.
  const slashed = name.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[a-zA-Z]:/.test(slashed)) {
    return err(`artifact path ${JSON.stringify(name)} is absolute; give a path relative to the run's artifact root`);
  }
  const out: string[] = [];
  for (const seg of slashed.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return err(`artifact path ${JSON.stringify(name)} escapes the run's artifact root`);
      out.pop();
      continue;
    }
    out.push(seg);
  }
  if (out.length === 0) return err(`artifact path ${JSON.stringify(name)} names the artifact root itself, not a file under it`);
  return ok(out.join('/'));
}

/** The artifact path for a local file when the caller gives none: its base name. */
export function defaultArtifactPath(localPath: string): string {
  return basename(localPath);
}
