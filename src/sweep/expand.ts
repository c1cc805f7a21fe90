// Trials from an experiment spec: the sweep points (grid, random or list) crossed with the variants
// (the baseline and each ablation). Pure and deterministic: the same spec (and seed) gives the same
// trials, names and values, so a sweep can be compared with, or resumed after, an earlier one.
import { deriveSeed, Rng } from '../ml/rng.js';
import type { Distribution, ExperimentSpec, StageSwitch } from './schema.js';

export interface TrialSpec {
  index: number;
  /** `t007` for a sweep point, the ablation's name (or `baseline`), or `ablation.t007` when both. */
  name: string;
  /** The ablation this trial belongs to; undefined for the baseline or a plain sweep. */
  ablation: string | undefined;
  /** The swept values of this trial by dotted key (empty without a sweep). */
  point: Record<string, unknown>;
  /** What the trial changes over the experiment's base: the ablation's params, then the point. */
  params: Record<string, unknown>;
  switches: Record<string, StageSwitch>;
}

export interface SweepPoint { name: string | undefined; values: Record<string, unknown> }

/** Significant digits kept for random real draws: values read well in tables and MLflow. */
const DRAW_DIGITS = 4;

export function sweepPoints(sweep: ExperimentSpec['sweep']): SweepPoint[] {
  if (!sweep) return [{ name: undefined, values: {} }];
  // An Optuna study asks its trials while the sweep runs (optuna/run-study.ts): none are known ahead.
  if (sweep.optuna) return [];
  let points: Record<string, unknown>[];
  if (sweep.grid) points = gridPoints(sweep.grid);
  else if (sweep.random) points = randomPoints(sweep.random.seed, sweep.random.trials, sweep.random.params);
  else points = (sweep.list ?? []).map((o) => ({ ...o }));
  const width = Math.max(3, String(points.length - 1).length);
  return points.map((values, i) => ({ name: `t${String(i).padStart(width, '0')}`, values }));
}

/** Every combination, the last key varying fastest (keys in the order written). */
export function gridPoints(grid: Record<string, readonly unknown[]>): Record<string, unknown>[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(grid)) {
    const next: Record<string, unknown>[] = [];
    for (const p of out) for (const v of values) next.push({ ...p, [key]: v });
    out = next;
  }
  return out;
}

export function randomPoints(seed: number, trials: number, params: Record<string, Distribution>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = Array.from({ length: trials }, () => ({}));
  // A stream per param, derived from the seed and the param's key: adding, removing or reordering
  // params leaves the other params' values in every trial as they were.
  for (const [key, d] of Object.entries(params)) {
    const rng = new Rng(deriveSeed(seed, key));
    for (const p of out) p[key] = draw(d, rng.next());
  }
  return out;
}

function draw(d: Distribution, u: number): unknown {
  if ('uniform' in d) { const [lo, hi] = d.uniform; return round(lo + (hi - lo) * u); }
  if ('log-uniform' in d) { const [lo, hi] = d['log-uniform']; return round(Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * u)); }
  if ('integer' in d) { const [lo, hi] = d.integer; return Math.min(hi, lo + Math.floor(u * (hi - lo + 1))); }
  return d.choice[Math.min(d.choice.length - 1, Math.floor(u * d.choice.length))];
}

const round = (x: number) => (x === 0 ? 0 : Number(x.toPrecision(DRAW_DIGITS)));

export function expandTrials(spec: ExperimentSpec): TrialSpec[] {
  const points = sweepPoints(spec.sweep);
  const ablations = Object.entries(spec.ablations ?? {});
  const variants: { name: string | undefined; params: Record<string, unknown>; switches: Record<string, StageSwitch> }[] = [];
  if (ablations.length === 0 || spec.baseline !== false) variants.push({ name: ablations.length ? 'baseline' : undefined, params: {}, switches: {} });
  for (const [name, a] of ablations) variants.push({ name, params: { ...a.params }, switches: { ...a.stages } });

  const trials: TrialSpec[] = [];
  for (const v of variants) {
    for (const p of points) {
      const name = v.name && p.name ? `${v.name}.${p.name}` : v.name ?? p.name ?? 'baseline';
      trials.push({
        index: trials.length,
        name,
        ablation: v.name === 'baseline' ? undefined : v.name,
        point: p.values,
        params: { ...v.params, ...p.values },
        switches: v.switches,
      });
    }
  }
  return trials;
}

/** `key=value` in a form `parseOverride` reads back to the same value (JSON is YAML). */
export function overrideString(key: string, value: unknown): string {
  return `${key}=${JSON.stringify(value)}`;
}
