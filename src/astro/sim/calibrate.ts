// Calibrating the simulated catalogue on a real labelled set (build-catalog's labelled.csv): the
// labelled sample's log M500 and z distributions (quantile knots), and the member-count relation
// N ~ Poisson(norm (M/pivot)^slope e^(s eps - s^2/2)) with the catalogue's richness noise on top,
// chosen so that a simulated labelled sample reproduces the real one's
//   - forward relation: least squares of ln(richness) on log10 M (slope, and level at the mean mass);
//   - richness-baseline MAE: log10 M = a + b log10(richness), least squares, in-sample.
// The slope and level are matched by a fixed-point update (the relation the sim draws from is the
// one that least squares recovers, up to the Poisson and log-normal mean corrections), the scatter
// s by bisection on the MAE, which rises with s. Each simulated cluster draws from its own seeded
// stream, so the objective is a smooth, repeatable function of the params.
import { richnessBaseline } from './floor.js';
import { quantileKnots, sampleKnots, type Knots } from './labelled.js';
import { DEFAULT_MODEL, sampleMembers, type ClusterModelParams } from './model.js';
import { Rng } from './rng.js';

export interface LabelledCluster { readonly logM500: number; readonly z: number; readonly richness: number }

export interface RichnessRelation {
  /** Mean member count at the pivot mass. */
  readonly richnessNorm: number;
  /** d ln N / d ln M. */
  readonly richnessSlope: number;
  /** Log-normal scatter (in ln) of N at fixed mass, on top of Poisson. */
  readonly richnessScatter: number;
}

export interface SampleStats {
  readonly clusters: number;
  /** ln(richness) = level + slope10 (log10 M - meanLogM): least squares. */
  readonly meanLogM: number;
  readonly level: number;
  readonly slope10: number;
  /** In-sample MAE (dex) of the richness baseline and its fit. */
  readonly baselineMae: number;
  readonly baseline: { readonly a: number; readonly b: number };
}

export interface SkyCalibration extends RichnessRelation {
  readonly labelledLogM: number[];
  readonly labelledZ: number[];
  readonly richnessPivot: number;
  readonly richnessNoise: number;
  readonly real: SampleStats;
  /** The same statistics of a simulated labelled sample with the calibrated params. */
  readonly sim: SampleStats;
  readonly draws: number;
}

export interface CalibrationOptions {
  readonly richnessPivot: number;
  /** The catalogue richness's own log-normal noise (kept as given, not fitted). */
  readonly richnessNoise: number;
  /** Quantile knots per distribution. */
  readonly knots: number;
  /** Simulated labelled clusters per evaluation. */
  readonly draws: number;
  readonly seed: number;
}

export const CALIBRATION_DEFAULTS: CalibrationOptions = { richnessPivot: 1e14, richnessNoise: 0.1, knots: 11, draws: 20000, seed: 1 };

export function sampleStats(sample: readonly { logM500: number; richness: number }[]): SampleStats {
  const n = sample.length;
  const mx = sample.reduce((s, c) => s + c.logM500, 0) / n;
  const ly = sample.map((c) => Math.log(c.richness));
  const my = ly.reduce((s, v) => s + v, 0) / n;
  let sxy = 0, sxx = 0;
  sample.forEach((c, i) => {
    sxy += (c.logM500 - mx) * (ly[i]! - my);
    sxx += (c.logM500 - mx) ** 2;
  });
  const base = richnessBaseline(sample);
  return { clusters: n, meanLogM: mx, level: my, slope10: sxy / sxx, baselineMae: base.maeDex, baseline: { a: base.a, b: base.b } };
}

/** A simulated labelled sample: masses from the knots, member counts and richness as sim-sky draws them. */
export function simulateLabelled(rel: RichnessRelation, logMKnots: Knots, o: Pick<CalibrationOptions, 'richnessPivot' | 'richnessNoise' | 'draws' | 'seed'>) {
  const model: ClusterModelParams = { ...DEFAULT_MODEL, ...rel, richnessPivot: o.richnessPivot };
  return Array.from({ length: o.draws }, (_, i) => {
    const rng = new Rng(o.seed, 0x5ca1e + i);
    const logM500 = sampleKnots(rng, logMKnots);
    const n = sampleMembers(rng, 10 ** logM500, model);
    return { logM500, membersTrue: n, richness: n * Math.exp(o.richnessNoise * rng.normal()) };
  });
}

export function calibrateSky(real: readonly LabelledCluster[], options: Partial<CalibrationOptions> = {}): SkyCalibration {
  const o = { ...CALIBRATION_DEFAULTS, ...options };
  const usable = real.filter((c) => Number.isFinite(c.logM500) && Number.isFinite(c.z) && c.richness > 0);
  if (usable.length < 20) throw new Error(`calibration needs at least 20 labelled clusters with a mass, redshift and positive richness, got ${usable.length}`);
  const labelledLogM = quantileKnots(usable.map((c) => c.logM500), o.knots);
  const labelledZ = quantileKnots(usable.map((c) => c.z), o.knots);
  const target = sampleStats(usable);
  const statsOf = (rel: RichnessRelation) => sampleStats(simulateLabelled(rel, labelledLogM, o));
  // Start from the forward relation as measured; the Poisson and log-normal terms shift it a little.
  const lnPivot = Math.log10(o.richnessPivot);
  let rel: RichnessRelation = {
    richnessSlope: target.slope10 / Math.LN10,
    richnessNorm: Math.exp(target.level + target.slope10 * (lnPivot - target.meanLogM)),
    richnessScatter: 0.3,
  };
  for (let round = 0; round < 6; round++) {
    let lo = 0, hi = 2;
    for (let k = 0; k < 18; k++) {
      const s = (lo + hi) / 2;
      if (statsOf({ ...rel, richnessScatter: s }).baselineMae < target.baselineMae) lo = s;
      else hi = s;
    }
    rel = { ...rel, richnessScatter: (lo + hi) / 2 };
    const sim = statsOf(rel);
    // Level compared at the real sample's mean mass, where it does not depend on the slope.
    const simLevel = sim.level + sim.slope10 * (target.meanLogM - sim.meanLogM);
    rel = {
      ...rel,
      richnessSlope: rel.richnessSlope + (target.slope10 - sim.slope10) / Math.LN10,
      richnessNorm: rel.richnessNorm * Math.exp(target.level - simLevel),
    };
  }
  const sim = statsOf(rel);
  return { ...rel, labelledLogM, labelledZ, richnessPivot: o.richnessPivot, richnessNoise: o.richnessNoise, real: target, sim, draws: o.draws };
}
