// The plan proper: for each selected stage, fresh / restore / run and why. Pure: every fact it
// needs (cache entries, workspace digests, previous fingerprints) is gathered beforehand.
import type { Digest, StageId } from '../core/brand.js';
import type { CacheEntry } from '../cache/entries.js';
import type { ContentDigest } from '../cache/digest-path.js';
import { digestOf } from '../cache/canonical.js';
import type { Pipeline, StageInstance } from '../pipeline/model.js';
import type { Fingerprint, FingerprintObject } from './fingerprint.js';
import type { RunReason, StageReason } from '../core/run-events.js';
import { diffFingerprints } from './why.js';

export type { RunReason };

export type Decision =
  | { kind: 'fresh'; entry: CacheEntry }
  | { kind: 'restore'; entry: CacheEntry; outs: string[]; from?: 'remote' }
  | { kind: 'run'; reason: RunReason };

export interface PlannedStage { id: StageId; fingerprint: Fingerprint; decision: Decision }

/** The reason a decision gives, as the plan announces it. */
export function decisionReason(d: Decision): StageReason {
  switch (d.kind) {
    case 'fresh': return { kind: 'up-to-date' };
    case 'restore': return { kind: 'outputs-missing', outs: d.outs, ...(d.from ? { from: d.from } : {}) };
    case 'run': return d.reason;
  }
}

export interface PlanFacts {
  entries: ReadonlyMap<Digest, CacheEntry | undefined>;
  workspace: ReadonlyMap<string, ContentDigest>;
  previous: ReadonlyMap<StageId, FingerprintObject>;
  /** Entries found only on the remote cache (none when no remote is configured). */
  remote?: ReadonlyMap<Digest, CacheEntry>;
}

export function decide(
  pipeline: Pipeline,
  selected: ReadonlySet<StageId>,
  fps: ReadonlyMap<StageId, Fingerprint>,
  facts: PlanFacts,
  force: boolean,
): PlannedStage[] {
  const out: PlannedStage[] = [];
  for (const s of pipeline.stages) {
    if (!selected.has(s.id)) continue;
    const fingerprint = fps.get(s.id)!;
    out.push({ id: s.id, fingerprint, decision: decideOne(s, fingerprint, facts, force) });
  }
  return out;
}

function decideOne(s: StageInstance, fp: Fingerprint, facts: PlanFacts, force: boolean): Decision {
  if (force) return { kind: 'run', reason: { kind: 'forced' } };
  if (!s.cache) return { kind: 'run', reason: { kind: 'cache-disabled' } };
  const local = facts.entries.get(fp.digest);
  const prev = facts.previous.get(s.id);
  if (s.restore === 'last-run') {
    // Only the stage's own last run counts, and only with its outputs as it left them.
    if (local && prev && digestOf(prev) === fp.digest) {
      const outs = staleOutputs(local.outs, facts.workspace);
      return outs.length ? { kind: 'run', reason: { kind: 'outs-changed', outs } } : { kind: 'fresh', entry: local };
    }
  } else {
    const entry = local ?? facts.remote?.get(fp.digest);
    if (entry) {
      const outs = staleOutputs(entry.outs, facts.workspace);
      if (!outs.length) return { kind: 'fresh', entry };
      return local ? { kind: 'restore', entry, outs } : { kind: 'restore', entry, outs, from: 'remote' };
    }
  }
  if (!prev) return { kind: 'run', reason: { kind: 'never-run' } };
  const changes = diffFingerprints(prev, fp.object);
  return { kind: 'run', reason: changes.length ? { kind: 'changed', changes } : { kind: 'not-cached' } };
}

/** The outputs of a cache entry that the workspace does not hold as stored (missing, or other content). */
export function staleOutputs(outs: CacheEntry['outs'], workspace: ReadonlyMap<string, ContentDigest>): string[] {
  return Object.entries(outs)
    .filter(([path, stored]) => {
      const w = workspace.get(path);
      return !w || w.kind === 'missing' || w.kind !== stored.kind || w.digest !== stored.digest;
    })
    .map(([path]) => path);
}

export type SelectResult = { ok: true; selected: Set<StageId> } | { ok: false; unknown: string[] };

/** The named stages (by name or instance id) and everything they need; all stages when none named. */
export function selectStages(pipeline: Pipeline, targets: readonly string[]): SelectResult {
  // A frozen stage never runs; the loader already cut it off from what it needs.
  const frozen = new Set(pipeline.stages.filter((s) => s.frozen).map((s) => s.id));
  if (targets.length === 0) return { ok: true, selected: new Set(pipeline.stages.filter((s) => !frozen.has(s.id)).map((s) => s.id)) };
  const unknown: string[] = [];
  const selected = new Set<StageId>();
  const stack: StageId[] = [];
  for (const t of targets) {
    const hits = pipeline.stages.filter((s) => s.id === t || s.name === t).map((s) => s.id);
    if (!hits.length) unknown.push(t);
    stack.push(...hits);
  }
  if (unknown.length) return { ok: false, unknown };
  while (stack.length) {
    const id = stack.pop()!;
    if (selected.has(id) || frozen.has(id)) continue;
    selected.add(id);
    stack.push(...(pipeline.upstream.get(id) ?? []));
  }
  return { ok: true, selected };
}
