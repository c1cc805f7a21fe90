// The objective of a run: `STAGE/KEY` looked up in the run record's stage metrics. STAGE is a stage
// name or one instance id; a foreach stage named by its name gives the mean over its instances
// that reported KEY (e.g. `fit-mass/val_mae` over folds).
import type { RunRecord } from '../record/run-record.js';
import type { Objective } from './schema.js';

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
