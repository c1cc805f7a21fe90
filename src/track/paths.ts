// Artifact names: normalized to a relative POSIX path under the run's artifact root. A name that
// would land outside that root is refused before anything is written or sent.
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
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

/** The files to upload for an artifact op: the file itself, or every file below a directory. */
export async function listArtifactFiles(local: string, path: string): Promise<{ local: string; path: string }[]> {
  const st = await stat(local);
  if (!st.isDirectory()) return [{ local, path }];
  const out: { local: string; path: string }[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((x, y) => (x.name < y.name ? -1 : 1));
    for (const e of entries) {
      const l = join(dir, e.name);
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(l, r);
      else if (e.isFile()) out.push({ local: l, path: r });
    }
  };
  await walk(local, path);
  return out;
}
