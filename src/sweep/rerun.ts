// What `massflow rerun` decides and reports, apart from running: whether the project drifted from
// the record (code, lockfile, backend, git), and, after the forced replay, whether each output's
// digest matched the recorded one. Pure.
import type { Digest, StageId } from '../core/brand.js';
import type { StoredOutput } from '../cache/store.js';
import type { StageOutcome } from '../core/run-events.js';
import type { BackendId } from '../project/backend-id.js';
import type { GitInfo } from '../record/git-info.js';
import type { RunRecord } from '../record/run-record.js';

export interface Drift {
  message: string;
  /** Blocking drift makes the replay a different computation: refused unless --allow-drift. */
  blocking: boolean;
}

export interface Now {
  /** Digest of each stage's code part, as fingerprinted now. */
  code: ReadonlyMap<StageId, Digest>;
  lockfile: Digest | null;
  git: GitInfo;
  backend: BackendId;
}

const short = (d: string | null | undefined) => (d ? d.slice(0, 12) : 'none');

export function findDrift(record: RunRecord, now: Now): Drift[] {
  const out: Drift[] = [];
  const changed: string[] = [];
  let unknown = false;
  for (const [id, s] of Object.entries(record.stages)) {
    const cur = now.code.get(id as StageId);
    if (!s.code) { unknown = true; continue; }
    if (cur !== undefined && cur !== s.code) changed.push(id);
  }
  if (changed.length) out.push({ blocking: true, message: `code differs from the record for ${changed.join(', ')} (the stage modules, the sources they import, or the command)` });
  if ((record.lockfileDigest ?? null) !== now.lockfile) {
    out.push({ blocking: true, message: `the lockfile differs from the record (${short(record.lockfileDigest)} -> ${short(now.lockfile)}): dependency versions may have changed` });
  }
  const sameGit = record.git.commit === now.git.commit && record.git.diffDigest === now.git.diffDigest;
  if (!sameGit) {
    const what = record.git.commit === now.git.commit
      ? `uncommitted changes differ from the record's (${short(record.git.diffDigest)} -> ${short(now.git.diffDigest)})`
      : `git commit ${short(record.git.commit)} was recorded, ${short(now.git.commit)} is checked out`;
    // Per-stage code digests settle it when the record has them; an older record only has git.
    if (unknown) out.push({ blocking: true, message: `${what}, and the record predates per-stage code digests` });
    else if (!changed.length) out.push({ blocking: false, message: `${what}; no stage's code changed` });
  }
  const was = `${record.backend.name}@${record.backend.version}`;
  const is = `${now.backend.name}@${now.backend.version}`;
  if (was !== is) out.push({ blocking: false, message: `tensor backend ${was} was recorded, ${is} is used now: TS stages' outputs may differ` });
  return out;
}

export type Verdict = 'match' | 'differs' | 'not produced';

export interface OutputCheck { stage: string; path: string; recorded: Digest; now: Digest | null; verdict: Verdict }

/** Each output the record has, against what the replay produced. */
export function checkOutputs(record: RunRecord, outcomes: ReadonlyMap<StageId, StageOutcome>): OutputCheck[] {
  const out: OutputCheck[] = [];
  for (const [id, s] of Object.entries(record.stages)) {
    const o = outcomes.get(id as StageId);
    const produced: Record<string, StoredOutput> = o && (o.kind === 'ran' || o.kind === 'restored' || o.kind === 'fresh') ? o.outputs : {};
    for (const [path, stored] of Object.entries(s.outputs).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const now = produced[path]?.digest ?? null;
      out.push({ stage: id, path, recorded: stored.digest, now, verdict: now === null ? 'not produced' : now === stored.digest ? 'match' : 'differs' });
    }
  }
  return out;
}
