// `massflow compare`: runs side by side. Which params differ between them, their metrics, ranked
// by the objective. Pure: rows from run records; the command finds the records.
import type { RunId } from '../core/brand.js';
import { canonicalJson } from '../cache/canonical.js';
import type { RunRecord } from '../record/run-record.js';
import { flattenParams } from '../pipeline/params.js';
import { table } from '../report/format.js';
import { compareByObjective, objectiveValue, splitMetric } from './objective.js';
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
  objective: number | null;
}

export interface Comparison {
  objective: Objective | null;
  /** Best first by the objective; in the given order without one. */
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

export function buildComparison(sources: readonly CompareSource[], objective: Objective | null, metrics: readonly string[] = []): Comparison {
  let rows: CompareRow[] = sources.map((s) => ({
    label: s.label,
    runId: s.record.runId,
    status: s.record.status,
    variant: s.variant,
    params: flattenParams(s.record.params),
    metrics: runMetrics(s.record),
    objective: objective ? objectiveValue(s.record, objective.metric) : null,
  }));
  if (objective) {
    const by = compareByObjective(objective.direction);
    rows = rows.map((r, i) => ({ r, i })).sort((a, b) => by(a.r.objective, b.r.objective) || a.i - b.i).map((x) => x.r);
  }
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.params)))].sort();
  const differing = keys.filter((k) => new Set(rows.map((r) => canonicalJson(r.params[k]))).size > 1);
  return { objective, rows, differing, shown: metrics.length ? [...metrics] : defaultMetrics(rows, objective) };
}

/** The objective's stage's metrics; without an objective, those of the last stage that has any. */
function defaultMetrics(rows: readonly CompareRow[], objective: Objective | null): string[] {
  const all = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))];
  if (objective) {
    const { stage } = splitMetric(objective.metric);
    return [objective.metric, ...all.filter((k) => k.startsWith(`${stage}/`) && k !== objective.metric).sort()];
  }
  const stages = [...new Set(all.map((k) => k.slice(0, k.indexOf('/'))))];
  const last = stages[stages.length - 1];
  return last === undefined ? [] : all.filter((k) => k.startsWith(`${last}/`)).sort();
}

export function comparisonLines(c: Comparison): string[] {
  if (c.rows.length === 0) return ['no runs to compare'];
  const variants = new Set(c.rows.map((r) => r.variant ?? ''));
  const withVariant = variants.size > 1;
  const head = ['run', 'status', ...(withVariant ? ['variant'] : []), ...c.differing, ...c.shown.map((m) => (c.objective?.metric === m ? `${m} (${c.objective.direction})` : m))];
  const rows = c.rows.map((r) => [
    r.label,
    r.status,
    ...(withVariant ? [r.variant ?? ''] : []),
    ...c.differing.map((k) => (k in r.params ? fmtParam(r.params[k]) : '-')),
    ...c.shown.map((m) => (m === c.objective?.metric ? (r.objective === null ? '-' : fmtValue(r.objective)) : r.metrics[m] === undefined ? '-' : fmtValue(r.metrics[m]!))),
  ]);
  const lines = table([head, ...rows], '');
  if (c.differing.length === 0 && c.rows.length > 1) lines.push('(every param is the same in these runs)');
  return lines;
}

export function comparisonJson(c: Comparison): string {
  return JSON.stringify({
    objective: c.objective,
    differing: c.differing,
    shown: c.shown,
    rows: c.rows.map((r) => ({ label: r.label, runId: r.runId, status: r.status, variant: r.variant ?? null, objective: r.objective, params: r.params, metrics: r.metrics })),
  }, null, 2) + '\n';
}
