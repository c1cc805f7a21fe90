// runs/<sweep-id>/sweep.json: what a sweep was (experiment snapshot, trials and their overrides)
// and how it ended (statuses, objective values, the best trial, or the Pareto front of several
// objectives). Each trial also has its own run
// record, runs/<sweep-id>.<trial>/run.json, with `sweep: {id, trial}`.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest, RunId } from '../core/brand.js';
import { writeJsonAtomic } from '../cache/atomic.js';
import type { RunStatus } from '../core/run-events.js';
import { compareByObjective, paretoFront } from './objective.js';
import type { Objective, ObjectiveSpec } from './schema.js';
import type { SweepPlan } from './plan.js';

export const SWEEP_RECORD_FORMAT = 1;

export type TrialStatus = RunStatus | 'pending';

export interface TrialRecord {
  name: string;
  runId: RunId;
  ablation: string | null;
  /** The swept values (empty without a sweep). */
  point: Record<string, unknown>;
  /** Every override the trial ran with, `key=value`. */
  overrides: string[];
  status: TrialStatus;
  /** Its value of the (first) objective. */
  objective: number | null;
  /** With several objectives: its value of each, in order (null: not reported). */
  values?: (number | null)[];
  /** Stages this trial ran itself, waited for another trial to run, or found cached. */
  stages: { ran: number; shared: number; cached: number };
}

export interface SweepRecord {
  format: typeof SWEEP_RECORD_FORMAT;
  kind: 'sweep';
  sweepId: RunId;
  status: RunStatus | 'running';
  experiment: { name: string; file: string; digest: Digest };
  /** The experiment file's text. */
  spec: string;
  pipeline: { name: string; file: string };
  argv: string[];
  /** As the experiment file gives it: one objective or a list. */
  objective: ObjectiveSpec | null;
  /** Keys the sweep varies (grid/random/list) and ablations by name. */
  swept: string[];
  ablations: string[];
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  /** Distinct stages (units) of the merged DAG and what became of them. */
  units: { total: number; ran: number; cached: number; failed: number; skipped: number; cancelled: number; pruned: number };
  trials: TrialRecord[];
  /** The best trial of a single objective (null with several, or when none reported it). */
  best: { trial: string; runId: RunId; value: number } | null;
  /** With several objectives: the trials on their Pareto front, which no other trial beats on all. */
  front?: { trial: string; runId: RunId; values: number[] }[];
  /** Where the trials' workspaces are (project-relative). */
  workspaces: string;
  /** Why an adaptive sweep stopped asking trials before its budget (its study failed). */
  error?: string;
  /** An adaptive sweep's Optuna study: every sweep of the same study continues it. */
  study?: string;
}

/** The record of a sweep that starts now: nothing ran yet. */
export function newSweepRecord(plan: SweepPlan, argv: string[], startedAt: number, workspaces: string, trials: TrialRecord[]): SweepRecord {
  const exp = plan.experiment;
  return {
    format: SWEEP_RECORD_FORMAT,
    kind: 'sweep',
    sweepId: plan.sweepId,
    status: 'running',
    experiment: { name: exp.name, file: exp.file, digest: exp.digest },
    spec: exp.text,
    pipeline: { name: exp.base.name, file: exp.pipelineFile },
    argv,
    objective: exp.spec.objective ?? null,
    swept: exp.spec.sweep?.optuna ? Object.keys(exp.spec.sweep.optuna.params) : [...new Set(exp.trials.flatMap((t) => Object.keys(t.point)))],
    ablations: Object.keys(exp.spec.ablations ?? {}),
    startedAt: new Date(startedAt).toISOString(),
    endedAt: null,
    durationMs: null,
    units: { total: plan.units.length, ran: 0, cached: 0, failed: 0, skipped: 0, cancelled: 0, pruned: 0 },
    trials,
    best: null,
    workspaces,
    ...(exp.spec.sweep?.optuna ? { study: exp.spec.sweep.optuna.study ?? exp.name } : {}),
  };
}

/** The best trial of one objective, or the Pareto front of several, among the trials that succeeded. */
export function bestTrials(objectives: readonly Objective[], trials: readonly TrialRecord[]): Pick<SweepRecord, 'best' | 'front'> {
  const done = trials.filter((t) => t.status === 'succeeded');
  if (objectives.length > 1) {
    const values = done.map((t) => t.values ?? []);
    const on = paretoFront(values, objectives.map((o) => o.direction));
    return { best: null, front: done.filter((_, i) => on[i]).map((t) => ({ trial: t.name, runId: t.runId, values: t.values as number[] })) };
  }
  const [objective] = objectives;
  if (!objective) return { best: null };
  const best = done.filter((t) => t.objective !== null).sort((a, b) => compareByObjective(objective.direction)(a.objective, b.objective))[0];
  return { best: best ? { trial: best.name, runId: best.runId, value: best.objective! } : null };
}

export const sweepRecordPath = (runsDir: string, id: string) => join(runsDir, id, 'sweep.json');

export async function writeSweepRecord(runsDir: string, r: SweepRecord): Promise<void> {
  await writeJsonAtomic(sweepRecordPath(runsDir, r.sweepId), r);
}

export async function readSweepRecord(runsDir: string, id: string): Promise<SweepRecord | undefined> {
  try {
    const r = JSON.parse(await readFile(sweepRecordPath(runsDir, id), 'utf8')) as SweepRecord;
    return r.kind === 'sweep' ? r : undefined;
  } catch { return undefined; }
}

/**
 * The latest sweep of an experiment file (sweep ids sort by start time). For an Optuna study, which
 * each sweep continues, its trials are those of every sweep of the same study, the latest word on
 * each trial winning: a resumed study compares as a whole.
 */
export async function latestSweepOf(runsDir: string, experimentFile: string): Promise<SweepRecord | undefined> {
  const ids = (await readdir(runsDir).catch(() => [] as string[])).filter((d) => !d.includes('.')).sort().reverse();
  let latest: SweepRecord | undefined;
  const trials = new Map<string, TrialRecord>();
  for (const id of ids) {
    const r = await readSweepRecord(runsDir, id);
    if (!r || r.experiment.file !== experimentFile) continue;
    if (!latest) { latest = r; if (r.study === undefined) return r; }
    if (r.study !== latest.study) continue;
    for (const t of r.trials) if (!trials.has(t.name)) trials.set(t.name, t);
  }
  return latest && { ...latest, trials: [...trials.values()].sort((a, b) => a.name.localeCompare(b.name)) };
}
