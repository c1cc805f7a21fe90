// A sweep's plan: every trial's pipeline fingerprinted, then merged into one DAG of units keyed by
// fingerprint. Trials that agree on a stage's fingerprint (same code, params, data and upstream)
// share one unit: it runs once, in the workspace of the first trial that has it (its owner), and
// the others find its outputs in the shared cache. Planning touches the disk only to hash sources
// and look cache entries up; merging is pure.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest, RunId, StageId } from '../core/brand.js';
import type { CacheEntry } from '../cache/entries.js';
import { type RunReason } from '../plan/decide.js';
import { classifyDeps, computeFingerprints, type CodeInfo, type Fingerprint, type FingerprintObject } from '../plan/fingerprint.js';
import { diffFingerprints } from '../plan/why.js';
import { type Project } from '../project/open.js';
import { lockfileDigest } from '../project/plan-from-disk.js';
import { backendLabel, detectBackend, type BackendId } from '../project/backend-id.js';
import { CodeDigester } from '../project/code.js';
import type { Diagnostic } from '../pipeline/diagnostics.js';
import type { Pipeline, StageInstance } from '../pipeline/model.js';
import type { Experiment } from './experiment.js';
import type { TrialSpec } from './expand.js';
import { compileTrial } from './trial-pipelines.js';
import { readText } from './detect.js';

export interface TrialPlan {
  trial: TrialSpec;
  runId: RunId;
  pipeline: Pipeline;
  overrides: string[];
  fingerprints: Map<StageId, Fingerprint>;
  /** Each of the trial's stages -> the unit that computes it. */
  unitOf: Map<StageId, Unit>;
}

export type UnitDecision =
  | { kind: 'cached'; entry: CacheEntry }
  | { kind: 'run'; reason: RunReason };

export interface Unit {
  /** The fingerprint digest; a `cache: false` stage is never shared, so its key names the trial too. */
  key: string;
  fingerprint: Fingerprint;
  /** The first trial with this unit: it runs there. */
  owner: TrialPlan;
  stage: StageInstance;
  members: { trial: TrialPlan; id: StageId }[];
  upstream: Unit[];
  decision: UnitDecision;
}

export interface SweepPlan {
  sweepId: RunId;
  experiment: Experiment;
  trials: TrialPlan[];
  /** Topological order. */
  units: Unit[];
  lockfile: Digest | null;
  backend: BackendId;
}

export type PlanResult =
  | { ok: true; plan: SweepPlan }
  | { ok: false; diagnostics: Diagnostic[] };

export const trialRunId = (sweepId: RunId, trial: string) => `${sweepId}.${trial}` as RunId;

export async function planSweep(
  project: Project,
  experiment: Experiment,
  sweepId: RunId,
  opts: { force: boolean; fileExists: (p: string) => boolean },
): Promise<PlanResult> {
  const compiled: { trial: TrialSpec; pipeline: Pipeline; overrides: string[] }[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const trial of experiment.trials) {
    const r = compileTrial(experiment, trial, opts.fileExists, (p) => readText(join(project.layout.root, p)));
    if (r.ok) { compiled.push({ trial, ...r.value }); continue; }
    for (const d of r.diagnostics) diagnostics.push({ ...d, message: `trial ${trial.name}: ${d.message}` });
  }
  if (diagnostics.length) return { ok: false, diagnostics };

  const backend = detectBackend();
  const { fingerprinted, lockfile } = await fingerprintTrials(project, compiled.map((c) => c.pipeline), backendLabel(backend));
  const trials: TrialPlan[] = compiled.map((c, i) => ({
    trial: c.trial,
    runId: trialRunId(sweepId, c.trial.name),
    pipeline: c.pipeline,
    overrides: c.overrides,
    fingerprints: fingerprinted[i]!,
    unitOf: new Map(),
  }));
  const units = mergeUnits(trials);
  await decideUnits(project, units, opts.force);
  return { ok: true, plan: { sweepId, experiment, trials, units, lockfile, backend } };
}

/**
 * Fingerprints of every trial's stages. Code and source files are hashed once for the whole sweep
 * (trials share them), at the project's own paths so the stat cache answers.
 */
export async function fingerprintTrials(project: Project, pipelines: readonly Pipeline[], backend: string) {
  return new SweepFingerprinter(project, backend).fingerprint(pipelines);
}

/**
 * Hashes stage code, source deps and the lockfile once per sweep, however many calls fingerprint
 * its trials: an adaptive sweep plans one trial at a time, and hashing everything again for each
 * (a fresh code digester walking every stage module's imports) was most of its per-trial cost.
 */
export class SweepFingerprinter {
  private readonly digester: CodeDigester;
  private readonly codeMemo = new Map<string, CodeInfo>();
  private readonly sourceDeps = new Map<string, Digest | 'missing'>();
  private readonly seen = new Set<Map<StageId, StageId[]>>();
  private lockfile: Promise<Digest | null> | undefined;

  constructor(private readonly project: Project, private readonly backend: string) {
    this.digester = new CodeDigester(project.layout.root);
  }

  private codeOf(s: StageInstance): CodeInfo {
    const key = s.impl.kind === 'ts' ? `ts:${s.impl.module}` : JSON.stringify([s.impl.argv, s.impl.shell, s.deps, s.outs, s.metrics]);
    let c = this.codeMemo.get(key);
    if (!c) { c = this.digester.codeInfo(s); this.codeMemo.set(key, c); }
    return c;
  }

  async fingerprint(pipelines: readonly Pipeline[]) {
    const root = this.project.layout.root;
    // Trials derived from the base pipeline share its edge map, hence its source deps.
    const sources = new Set<string>();
    for (const p of pipelines) {
      if (this.seen.has(p.upstream)) continue;
      this.seen.add(p.upstream);
      for (const s of classifyDeps(p).sources) if (!this.sourceDeps.has(s)) sources.add(s);
    }
    await Promise.all([...sources].map(async (p) => {
      const d = await this.project.stat.digestOnly(join(root, p));
      this.sourceDeps.set(p, d.kind === 'missing' ? 'missing' : d.digest);
    }));
    this.lockfile ??= lockfileDigest(root);
    const lockfile = await this.lockfile;
    const fingerprinted = pipelines.map((p) => {
      const code = new Map(p.stages.map((s) => [s.id, this.codeOf(s)] as const));
      return computeFingerprints(p, { code, sourceDeps: this.sourceDeps, lockfile, backend: this.backend });
    });
    return { fingerprinted, lockfile };
  }
}

/**
 * One unit per distinct fingerprint, created in trial order so the first trial owns it. `units`
 * holds those of trials merged before (a sweep that asks its trials as it goes); the units this
 * call creates are returned.
 */
export function mergeUnits(trials: readonly TrialPlan[], units = new Map<string, Unit>()): Unit[] {
  const created: Unit[] = [];
  for (const t of trials) {
    for (const s of t.pipeline.stages) {
      const fp = t.fingerprints.get(s.id)!;
      const key = s.cache ? fp.digest : `${fp.digest}#${t.trial.name}`;
      let u = units.get(key);
      if (!u) {
        const upstream = (t.pipeline.upstream.get(s.id) ?? []).map((id) => t.unitOf.get(id)!);
        u = { key, fingerprint: fp, owner: t, stage: s, members: [], upstream, decision: { kind: 'run', reason: { kind: 'never-run' } } };
        units.set(key, u);
        created.push(u);
      }
      u.members.push({ trial: t, id: s.id });
      t.unitOf.set(s.id, u);
    }
  }
  // Upstream units always come first: a trial's stages are in topological order, and a unit's
  // upstream was created by the same trial or an earlier one.
  return created;
}

/**
 * One more trial into a running sweep: compiled, fingerprinted and merged into `units` (the
 * sweep's, by key), its new units decided against the cache. It shares every unit an earlier
 * trial has, running or done, exactly as trials planned together do.
 */
export async function planNextTrial(
  project: Project, experiment: Experiment, sweepId: RunId, trial: TrialSpec, units: Map<string, Unit>,
  opts: { force: boolean; fileExists: (p: string) => boolean },
  fingerprinter = new SweepFingerprinter(project, backendLabel(detectBackend())),
): Promise<{ ok: true; trial: TrialPlan; created: Unit[] } | { ok: false; diagnostics: Diagnostic[] }> {
  const r = compileTrial(experiment, trial, opts.fileExists, (p) => readText(join(project.layout.root, p)));
  if (!r.ok) return { ok: false, diagnostics: r.diagnostics.map((d) => ({ ...d, message: `trial ${trial.name}: ${d.message}` })) };
  const { fingerprinted } = await fingerprinter.fingerprint([r.value.pipeline]);
  const plan: TrialPlan = { trial, runId: trialRunId(sweepId, trial.name), pipeline: r.value.pipeline, overrides: r.value.overrides, fingerprints: fingerprinted[0]!, unitOf: new Map() };
  const created = mergeUnits([plan], units);
  // A trial adds a few units: each is looked up on its own, not by listing the whole entry store.
  await decideUnits(project, created, opts.force, false);
  return { ok: true, trial: plan, created };
}

/**
 * Fingerprints that have a cache entry file, from one listing of the entry store instead of a
 * lookup per unit (a 1000-trial sweep has over 10^4 units). Only a filter: a listed entry is still
 * checked for completeness, and one missed here is found by the stage runner's own cache check.
 */
async function listedEntries(project: Project): Promise<Set<string>> {
  const dir = project.entries.dir;
  const out = new Set<string>();
  const shards = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(shards.map(async (shard) => {
    for (const f of await readdir(join(dir, shard)).catch(() => [] as string[])) if (f.endsWith('.json')) out.add(shard + f.slice(0, -5));
  }));
  return out;
}

async function decideUnits(project: Project, units: readonly Unit[], force: boolean, listing = true): Promise<void> {
  const listed = force || !listing ? undefined : await listedEntries(project);
  const previous = new Map<StageId, Promise<FingerprintObject | undefined>>();
  const prevOf = (id: StageId) => {
    let p = previous.get(id);
    if (!p) { p = project.fingerprints.get(id); previous.set(id, p); }
    return p;
  };
  const BATCH = 64;
  for (let i = 0; i < units.length; i += BATCH) {
    await Promise.all(units.slice(i, i + BATCH).map(async (u) => {
      if (force) { u.decision = { kind: 'run', reason: { kind: 'forced' } }; return; }
      if (!u.stage.cache) { u.decision = { kind: 'run', reason: { kind: 'cache-disabled' } }; return; }
      const entry = !listed || listed.has(u.fingerprint.digest) ? await project.entries.getComplete(u.fingerprint.digest) : undefined;
      if (entry) { u.decision = { kind: 'cached', entry }; return; }
      const prev = await prevOf(u.stage.id);
      const changes = prev ? diffFingerprints(prev, u.fingerprint.object) : undefined;
      u.decision = { kind: 'run', reason: !changes ? { kind: 'never-run' } : changes.length ? { kind: 'changed', changes } : { kind: 'not-cached' } };
    }));
  }
}

export type MemberRole = { kind: 'run' } | { kind: 'share'; owner: string } | { kind: 'cached'; runId: string };

/** What a trial does about one of its stages: run it, wait for the trial that runs it, or find it cached. */
export function memberRole(t: TrialPlan, id: StageId): MemberRole {
  const u = t.unitOf.get(id)!;
  if (u.decision.kind === 'cached') return { kind: 'cached', runId: u.decision.entry.runId };
  return u.owner === t ? { kind: 'run' } : { kind: 'share', owner: u.owner.trial.name };
}
