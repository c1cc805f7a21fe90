// The git commit and a digest of uncommitted changes, recorded so a run can be traced and replayed.
import { execFileSync } from 'node:child_process';
import { sha256 } from '../cache/canonical.js';

export interface GitInfo { commit: string | null; dirty: boolean; diffDigest: string | null; branch: string | null }

function git(root: string, args: string[]): string | undefined {
  try { return execFileSync('git', args, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 }).toString(); } catch { return undefined; }
}

export function gitInfo(root: string): GitInfo {
  const commit = git(root, ['rev-parse', 'HEAD'])?.trim() ?? null;
  if (!commit) return { commit: null, dirty: false, diffDigest: null, branch: null };
  const diff = git(root, ['diff', 'HEAD', '--no-ext-diff', '--binary']) ?? '';
  const untracked = git(root, ['ls-files', '--others', '--exclude-standard']) ?? '';
  const dirty = diff.length > 0 || untracked.length > 0;
  return {
    commit,
    dirty,
    diffDigest: dirty ? sha256(diff + '\0' + untracked) : null,
    branch: git(root, ['rev-parse', '--abbrev-ref', 'HEAD'])?.trim() ?? null,
  };
}
