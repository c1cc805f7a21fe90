// An Optuna study as a sweep's trial source: each trial is asked when a slot frees, planned into
// the sweep's DAG (so it shares cached and running units like any trial), fed its pruning metric
// as intermediate values while it trains, and told how it ended. Trials are named by their Optuna
// number (t000, t001, ...), which a resumed study continues, so no two trials share a name.
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { RunId, StageId } from '../../core/brand.js';
import type { RunStatus } from '../../core/run-events.js';
import type { Project } from '../../project/open.js';
import type { Experiment } from '../experiment.js';
import { objectivesOf } from '../objective.js';
import { planNextTrial, SweepFingerprinter, type TrialPlan, type Unit } from '../plan.js';
import { backendLabel, detectBackend } from '../../project/backend-id.js';
import type { NextTrial, TrialSource } from '../trial-source.js';
import type { PruneSpec, OptunaSweep } from './schema.js';
import type { Study, StudyOpen } from './study-child.js';

/** Where the study lives, as the study process opens it: an SQLite or database URL, or `journal:FILE`. */
export function storageUrl(projectDir: string, o: OptunaSweep, study: string, makeFolder = true): string {
  const s = o.storage ?? join('.massflow', 'optuna', `${study}.db`);
  if (s.includes('://')) return s;
  const file = resolve(projectDir, s);
  // A folder that cannot be made is left to the study process, whose open reports it at `storage`.
  if (makeFolder) try { mkdirSync(dirname(file), { recursive: true }); } catch { /* reported when the study opens */ }
  return /\.(journal|log)$/.test(s) ? `journal:${file}` : `sqlite:///${file}`;
}

/** `url` with the password it may carry masked, character for character (so columns stay put). */
export const maskPassword = (url: string) => url.replace(/(:\/\/[^:/@]*):([^@/]*)@/, (_, user: string, pw: string) => `${user}:${'*'.repeat(pw.length)}@`);

/** What the study process is opened with: the experiment's search space, sampler, pruner and budget. */
export function studyOpen(projectDir: string, exp: Experiment, o: OptunaSweep): StudyOpen {
  const study = o.study ?? exp.name;
  const prune = o.prune;
  const pruner = prune && {
    name: prune.pruner,
    options: {
      ...(prune.pruner === 'median' && prune.warmup_steps !== undefined ? { n_warmup_steps: prune.warmup_steps } : {}),
      ...(prune.pruner === 'median' && prune.startup_trials !== undefined ? { n_startup_trials: prune.startup_trials } : {}),
      ...prune.options,
    },
  };
  return {
    storage: storageUrl(projectDir, o, study), study,
    directions: objectivesOf(exp.spec.objective).map((o) => (o.direction === 'max' ? 'maximize' : 'minimize')),
    sampler: { name: o.sampler ?? 'tpe', seed: o.seed, options: { ...o.sampler_options } },
    pruner: pruner ?? null, space: o.params, trials: o.trials,
  };
}

/** Turns the targeted stage's stream of (instance, step, value) into one curve per trial. */
class Curve {
  private readonly atStep = new Map<number, Map<StageId, number>>();
  private readonly reported = new Set<number>();
  constructor(private readonly instances: readonly StageId[], private readonly combine: 'mean' | 'first') {}

  /** The value to report at `step`, once it is known (all instances there, for `mean`). */
  add(id: StageId, step: number, value: number): number | undefined {
    if (!this.instances.includes(id) || this.reported.has(step)) return undefined;
    if (this.combine === 'first' || this.instances.length === 1) {
      if (id !== this.instances[0]) return undefined;
      this.reported.add(step);
      return value;
    }
    const at = this.atStep.get(step) ?? this.atStep.set(step, new Map()).get(step)!;
    at.set(id, value);
    if (at.size < this.instances.length) return undefined;
    this.atStep.delete(step);
    this.reported.add(step);
    return [...at.values()].reduce((a, b) => a + b, 0) / at.size;
  }
}

export class StudySource implements TrialSource {
  readonly budget: number;
  private readonly units = new Map<string, Unit>();
  private readonly numbers = new Map<TrialPlan, number>();
  private readonly curves = new Map<TrialPlan, Curve>();
  /** Code, sources and the lockfile hashed once for all the trials this sweep asks. */
  private readonly fingerprinter: SweepFingerprinter;

  constructor(
    private readonly project: Project,
    private readonly exp: Experiment,
    private readonly sweepId: RunId,
    private readonly study: Study,
    private readonly opts: { force: boolean; fileExists: (p: string) => boolean; onIntermediate?: (trial: string, key: string, value: number, step: number) => void },
  ) {
    this.budget = exp.spec.sweep!.optuna!.trials;
    this.fingerprinter = new SweepFingerprinter(project, backendLabel(detectBackend()));
  }

  async next(): Promise<NextTrial> {
    const asked = await this.study.ask();
    if (!asked) return { kind: 'done' };
    const name = `t${String(asked.number).padStart(3, '0')}`;
    const spec = { index: asked.number, name, ablation: undefined, point: asked.params, params: asked.params, switches: {} };
    const r = await planNextTrial(this.project, this.exp, this.sweepId, spec, this.units, this.opts, this.fingerprinter);
    if (!r.ok) {
      await this.study.tell(asked.number, 'fail', null);
      return { kind: 'error', message: r.diagnostics.map((d) => d.message).join('; ') };
    }
    this.numbers.set(r.trial, asked.number);
    const prune = this.exp.spec.sweep!.optuna!.prune;
    if (prune) this.curves.set(r.trial, curveOf(r.trial, prune));
    return { kind: 'trial', trial: r.trial, created: r.created };
  }

  metric(trial: TrialPlan, id: StageId, key: string, value: number, step: number | undefined, prune: (step: number) => void): void {
    const spec = this.exp.spec.sweep!.optuna!.prune;
    const curve = this.curves.get(trial);
    const number = this.numbers.get(trial);
    if (!spec || !curve || number === undefined || step === undefined || key !== metricKey(spec)) return;
    const v = curve.add(id, step, value);
    if (v === undefined) return;
    this.opts.onIntermediate?.(trial.trial.name, spec.metric, v, step);
    // A report that arrives after the trial was told (it ended meanwhile) is refused; nothing is lost.
    this.study.report(number, step, v).then((stop) => { if (stop) prune(step); }, () => {});
  }

  async ended(trial: TrialPlan, status: RunStatus, values: readonly (number | null)[]): Promise<void> {
    const number = this.numbers.get(trial);
    this.curves.delete(trial);
    if (number === undefined) return;
    switch (status) {
      // A trial that did not report every objective tells the study nothing it can rank.
      case 'succeeded': return values.length && values.every((v) => v !== null) ? this.study.tell(number, 'complete', values as number[]) : this.study.tell(number, 'fail', null);
      case 'pruned': return this.study.tell(number, 'pruned', null);
      case 'failed': return this.study.tell(number, 'fail', null);
      // Interrupted: left running in the study, whose next open asks it again.
      case 'cancelled': return;
    }
  }
}

const metricKey = (p: PruneSpec) => p.metric.slice(p.metric.indexOf('/') + 1);

function curveOf(t: TrialPlan, p: PruneSpec): Curve {
  const stagePart = p.metric.slice(0, p.metric.indexOf('/'));
  const byId = t.pipeline.stages.filter((s) => s.id === stagePart);
  const instances = (byId.length ? byId : t.pipeline.stages.filter((s) => s.name === stagePart)).map((s) => s.id);
  return new Curve(instances, p.combine ?? 'mean');
}
