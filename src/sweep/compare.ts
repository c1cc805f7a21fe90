// `massflow compare`: runs side by side. Which params differ between them, their metrics, ranked
// by the objective (with several objectives: the Pareto front first, marked). Pure: rows from run
// records; the command finds the records.
import type { RunId } from '../core/brand.js';
import { canonicalJson } from '../cache/canonical.js';
import type { RunRecord } from '../record/run-record.js';
import { flattenParams } from '../pipeline/params.js';
import { table } from '../report/format.js';
import { compareByObjective, objectiveValue, paretoFront, splitMetric } from './objective.js';
import type { Objective } from './schema.js';
import { fmtParam, fmtValue } from './view.js';

export interface CompareSource {
  label: string;
  record: RunRecord;
  /** The ablation a sweep trial belongs to (`baseline` for the unchanged pipeline). */
  variant?: string | undefined;
}

export interface CompareRow {
  label: string;
  runId: RunId;
  status: string;
  variant: string | undefined;
  /** Every param, flattened (`fit.lr`). */
  params: Record<string, unknown>;
  /** `stage-id/key` for every stage instance, plus `stage/key` means over a foreach stage's instances. */
  metrics: Record<string, number>;
  /** Its value of the first objective. */
  objective: number | null;
  /** Its value of each objective, in order. */
  values: (number | null)[];
  /** With several objectives: no other row dominates it. */
  front: boolean;
}

export interface Comparison {
  objectives: Objective[];
  /** Best first by the objective (the front first with several); in the given order without one. */
  rows: CompareRow[];
  /** Params whose values are not the same in every row. */
  differing: string[];
  /** Metric columns of the table. */
  shown: string[];
}

export function runMetrics(record: Pick<RunRecord, 'stages'>): Record<string, number> {
  const out: Record<string, number> = {};
  const byName = new Map<string, Map<string, number[]>>();
  for (const [id, s] of Object.entries(record.stages)) {
    for (const [key, value] of Object.entries(s.metrics)) {
      out[`${id}/${key}`] = value;
      if (!id.includes('@')) continue;
      const name = id.slice(0, id.indexOf('@'));
      const keys = byName.get(name) ?? byName.set(name, new Map()).get(name)!;
      keys.set(key, [...(keys.get(key) ?? []), value]);
    }
  }
  for (const [name, keys] of byName) for (const [key, vs] of keys) out[`${name}/${key}`] = vs.reduce((a, b) => a + b, 0) / vs.length;
  return out;
}

export function buildComparison(sources: readonly CompareSource[], objectives: readonly Objective[], metrics: readonly string[] = []): Comparison {
  let rows: CompareRow[] = sources.map((s) => {
    const values = objectives.map((o) => objectiveValue(s.record, o.metric));
    return {
      label: s.label,
      runId: s.record.runId,
      status: s.record.status,
      variant: s.variant,
      params: flattenParams(s.record.params),
      metrics: runMetrics(s.record),
      objective: values[0] ?? null,
      values,
      front: false,
    };
  });
  if (objectives.length > 1) {
    // Among the runs that succeeded: a failed one's partial metrics rank nothing.
    const on = paretoFront(rows.map((r) => (r.status === 'succeeded' ? r.values : [])), objectives.map((o) => o.direction));
    rows.forEach((r, i) => { r.front = on[i]!; });
  }
  if (objectives.length) {
    const by = compareByObjective(objectives[0]!.direction);
    rows = rows.map((r, i) => ({ r, i })).sort((a, b) => Number(b.r.front) - Number(a.r.front) || by(a.r.objective, b.r.objective) || a.i - b.i).map((x) => x.r);
  }
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.params)))].sort();
  const differing = keys.filter((k) => new Set(rows.map((r) => canonicalJson(r.params[k]))).size > 1);
  return { objectives: [...objectives], rows, differing, shown: metrics.length ? [...metrics] : defaultMetrics(rows, objectives) };
}

/** The objectives, then their stages' other metrics; without an objective, those of the last stage that has any. */
function defaultMetrics(rows: readonly CompareRow[], objectives: readonly Objective[]): string[] {
  const all = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))];
  if (objectives.length) {
    const metrics = objectives.map((o) => o.metric);
    const stages = new Set(metrics.map((m) => splitMetric(m).stage));
    return [...metrics, ...all.filter((k) => stages.has(splitMetric(k).stage) && !metrics.includes(k)).sort()];
  }
  const stages = [...new Set(all.map((k) => k.slice(0, k.indexOf('/'))))];
  const last = stages[stages.length - 1];
  return last === undefined ? [] : all.filter((k) => k.startsWith(`${last}/`)).sort();
}

export function comparisonLines(c: Comparison): string[] {
  if (c.rows.length === 0) return ['no runs to compare'];
  const variants = new Set(c.rows.map((r) => r.variant ?? ''));
  const withVariant = variants.size > 1;
  const several = c.objectives.length > 1;
  const index = (m: string) => c.objectives.findIndex((o) => o.metric === m);
  const head = ['run', 'status', ...(withVariant ? ['variant'] : []), ...c.differing, ...c.shown.map((m) => (index(m) >= 0 ? `${m} (${c.objectives[index(m)]!.direction})` : m)), ...(several ? ['front'] : [])];
  const cell = (v: number | null | undefined) => (v == null ? '-' : fmtValue(v));
  const rows = c.rows.map((r) => [
    r.label,
    r.status,
    ...(withVariant ? [r.variant ?? ''] : []),
    ...c.differing.map((k) => (k in r.params ? fmtParam(r.params[k]) : '-')),
    ...c.shown.map((m) => (index(m) === 0 ? cell(r.objective) : index(m) > 0 ? cell(r.values[index(m)]) : cell(r.metrics[m]))),
    ...(several ? [r.front ? '*' : ''] : []),
  ]);
  const lines = table([head, ...rows], '');
  if (c.differing.length === 0 && c.rows.length > 1) lines.push('(every param is the same in these runs)');
  return lines;
}

export function comparisonJson(c: Comparison): string {
  return JSON.stringify({
    objective: c.objectives[0] ?? null,
    objectives: c.objectives,
    differing: c.differing,
    shown: c.shown,
    rows: c.rows.map((r) => ({
      label: r.label, runId: r.runId, status: r.status, variant: r.variant ?? null, objective: r.objective,
      ...(c.objectives.length > 1 ? { values: r.values, front: r.front } : {}), params: r.params, metrics: r.metrics,
    })),
  }, null, 2) + '\n';
}
