// The objective of a run: `STAGE/KEY` looked up in the run record's stage metrics. STAGE is a stage
// name or one instance id; a foreach stage named by its name gives the mean over its instances
// that reported KEY (e.g. `fit-mass/val_mae` over folds). With several objectives there is no single
// best run: the best are those on the Pareto front, which no other run beats on every objective.
import type { RunRecord } from '../record/run-record.js';
import type { Objective, ObjectiveSpec } from './schema.js';

/** The objectives as a list (empty without one): an experiment file may give one or several. */
export function objectivesOf(spec: ObjectiveSpec | null | undefined): Objective[] {
  if (!spec) return [];
  return Array.isArray(spec) ? spec : [spec];
}

export function splitMetric(metric: string): { stage: string; key: string } {
  const i = metric.indexOf('/');
  return { stage: metric.slice(0, i), key: metric.slice(i + 1) };
}

const stageName = (id: string) => (id.includes('@') ? id.slice(0, id.indexOf('@')) : id);

export function objectiveValue(record: Pick<RunRecord, 'stages'>, metric: string): number | null {
  const { stage, key } = splitMetric(metric);
  const values: number[] = [];
  for (const [id, s] of Object.entries(record.stages)) {
    if (id !== stage && stageName(id) !== stage) continue;
    const v = s.metrics[key];
    if (typeof v === 'number' && Number.isFinite(v)) values.push(v);
  }
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

/** Orders values best first; a run without a value goes last. */
export function compareByObjective(direction: Objective['direction']) {
  return (a: number | null, b: number | null): number => {
    if (a === null || b === null) return a === null ? (b === null ? 0 : 1) : -1;
    return direction === 'min' ? a - b : b - a;
  };
}

/** Whether `a` dominates `b`: at least as good on every objective and better on one. */
function dominates(a: readonly number[], b: readonly number[], directions: readonly Objective['direction'][]): boolean {
  let better = false;
  for (let i = 0; i < directions.length; i++) {
    const d = directions[i] === 'min' ? b[i]! - a[i]! : a[i]! - b[i]!;
    if (d < 0) return false;
    if (d > 0) better = true;
  }
  return better;
}

/**
 * For each run's values (one per objective), whether it is on the Pareto front: every value known
 * and no other run dominates it. Runs with equal values are all on it (as Optuna's best_trials).
 */
export function paretoFront(values: readonly (readonly (number | null)[])[], directions: readonly Objective['direction'][]): boolean[] {
  const known = values.map((v) => (v.length === directions.length && v.every((x) => x !== null) ? (v as number[]) : undefined));
  return known.map((v, i) => v !== undefined && !known.some((w, j) => j !== i && w !== undefined && dominates(w, v, directions)));
}
