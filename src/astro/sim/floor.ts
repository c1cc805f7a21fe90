// The scatter floor: the MAE (dex) of the ideal estimator that knows each cluster's true member
// count N. Under the sim's own generative model the MAE-optimal estimate of log10 M500 given N is
// the posterior median of p(log M | N) ~ prior(log M) * P(N | M), with P(N | M) a Poisson of a
// log-normally scattered mean; we compute it on a grid. Because everything in the images depends on
// M only through N (model.ts), no image-based estimator can beat it on average.
//
// Also: the same floor for an estimator that knows only the members inside the cutout footprint
// (what a CNN fed the default cutouts can possibly see), estimated by Monte Carlo.
import { massForMembers, meanMembers, modelTables, sampleLogMass, sampleMembers, sampleNfwRadius, type ClusterModelParams } from './model.js';
import { r500Mpc } from '../cosmology.js';
import { Rng } from './rng.js';

const GRID = 400;
const EPS = 41;

function lgamma(x: number): number {
  // Lanczos approximation (g = 7), accurate to ~1e-13 for x > 0.
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lgamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * A mass prior other than the model's power law (the labelled sample's, labelled.ts): its support,
 * density (up to a constant) and a sampler.
 */
export interface MassPrior {
  readonly range: readonly [number, number];
  density(logM: number): number;
  draw(rng: Rng): number;
}

/** Posterior medians of log10 M500 for member counts 1..nMax under the model's prior (or `massPrior`). */
export function posteriorMedians(p: ClusterModelParams, nMax: number, massPrior?: MassPrior): Float64Array {
  const lm = new Float64Array(GRID);
  const prior = new Float64Array(GRID);
  const k = p.massSlope * Math.LN10;
  const [lo, hi] = massPrior?.range ?? [p.logMMin, p.logMMax];
  const s = p.richnessScatter;
  // log of the scattered Poisson mean on the (mass, eps) grid, eps over +-5 sigma with normal weights.
  const logMu = new Float64Array(GRID * EPS);
  const mu = new Float64Array(GRID * EPS);
  const w = new Float64Array(EPS);
  for (let j = 0; j < EPS; j++) {
    const e = -5 + (10 * j) / (EPS - 1);
    w[j] = Math.exp(-0.5 * e * e);
  }
  for (let i = 0; i < GRID; i++) {
    lm[i] = lo + ((i + 0.5) / GRID) * (hi - lo);
    prior[i] = massPrior ? massPrior.density(lm[i]!) : Math.exp(-k * (lm[i]! - p.logMMin));
    const base = Math.log(meanMembers(10 ** lm[i]!, p));
    for (let j = 0; j < EPS; j++) {
      const e = -5 + (10 * j) / (EPS - 1);
      logMu[i * EPS + j] = base + s * e - (s * s) / 2;
      mu[i * EPS + j] = Math.exp(logMu[i * EPS + j]!);
    }
  }
  const out = new Float64Array(nMax + 1).fill(NaN);
  const post = new Float64Array(GRID);
  for (let n = 1; n <= nMax; n++) {
    const lg = lgamma(n + 1);
    let total = 0;
    for (let i = 0; i < GRID; i++) {
      let like = 0;
      for (let j = 0; j < EPS; j++) {
        const m = mu[i * EPS + j]!;
        // n = 1 also collects the clusters whose Poisson draw was 0 (sampleMembers floors at 1).
        like += w[j]! * (n === 1 ? Math.exp(-m) * (1 + m) : Math.exp(n * logMu[i * EPS + j]! - m - lg));
      }
      post[i] = prior[i]! * like;
      total += post[i]!;
    }
    let acc = 0;
    for (let i = 0; i < GRID; i++) {
      acc += post[i]!;
      if (acc >= total / 2) {
        out[n] = lm[i]!;
        break;
      }
    }
  }
  return out;
}

export interface Floor {
  /** Over the simulated clusters: mean |median(log M | N_true) - log M|. */
  readonly maeFloorDex: number;
  /** The expectation of the same over the model's population (Monte Carlo). */
  readonly maeFloorPopulationDex: number;
  /** Floor for an estimator that sees only the members inside a square of side cellMpc (Monte Carlo). */
  readonly maeFloorInCutoutDex: number;
  /** Mean fraction of members inside that square. */
  readonly meanFractionInCutout: number;
}

/** Members inside a centred square of side `sideMpc`, for a cluster of n members (BCG included, always inside). */
export function membersInSquare(rng: Rng, n: number, rMembersMpc: number, sideMpc: number, nfw: Float64Array): number {
  let k = 1;
  const h = sideMpc / 2;
  for (let i = 1; i < n; i++) {
    const r = sampleNfwRadius(rng, nfw) * rMembersMpc;
    const t = 2 * Math.PI * rng.uniform();
    if (Math.abs(r * Math.cos(t)) <= h && Math.abs(r * Math.sin(t)) <= h) k++;
  }
  return k;
}

export function computeFloor(
  p: ClusterModelParams, sample: readonly { logM500: number; membersTrue: number }[], sideMpc: number, seed: number, draws = 100000, massPrior?: MassPrior,
): Floor {
  const rng = new Rng(seed, 0x7f100);
  const tables = modelTables(p);
  const pop: { lm: number; n: number; nIn: number }[] = [];
  let nMax = 1;
  let frac = 0;
  for (let i = 0; i < draws; i++) {
    const lm = massPrior ? massPrior.draw(rng) : sampleLogMass(rng, p);
    const n = sampleMembers(rng, 10 ** lm, p);
    // The member radius depends on n alone, in Mpc; the square is in Mpc too, so z drops out.
    const nIn = membersInSquare(rng, n, r500Mpc(massForMembers(n, p), 0.3), sideMpc, tables.nfw);
    frac += nIn / n / draws;
    pop.push({ lm, n, nIn });
    nMax = Math.max(nMax, n);
  }
  for (const c of sample) nMax = Math.max(nMax, c.membersTrue);
  const med = posteriorMedians(p, nMax, massPrior);
  let sampleMae = 0;
  for (const c of sample) sampleMae += Math.abs(med[c.membersTrue]! - c.logM500) / Math.max(1, sample.length);
  let popMae = 0;
  for (const c of pop) popMae += Math.abs(med[c.n]! - c.lm) / pop.length;
  // In-cutout floor: conditional medians of log M per visible count from the first half of the
  // draws (bins pooled until they hold 200 clusters), scored on the second half.
  const half = pop.length >> 1;
  const byNIn = new Map<number, number[]>();
  for (let i = 0; i < half; i++) {
    const c = pop[i]!;
    let list = byNIn.get(c.nIn);
    if (!list) byNIn.set(c.nIn, (list = []));
    list.push(c.lm);
  }
  const keys = [...byNIn.keys()].sort((a, b) => a - b);
  const medIn = new Map<number, number>();
  let pool: number[] = [];
  let poolKeys: number[] = [];
  const flush = () => {
    const s = pool.sort((a, b) => a - b);
    const m = s[s.length >> 1]!;
    for (const k of poolKeys) medIn.set(k, m);
    pool = [];
    poolKeys = [];
  };
  for (const k of keys) {
    pool.push(...byNIn.get(k)!);
    poolKeys.push(k);
    if (pool.length >= 200) flush();
  }
  if (pool.length) flush();
  const nearest = (k: number) => {
    if (medIn.has(k)) return medIn.get(k)!;
    let best = keys[0]!;
    for (const q of keys) if (Math.abs(q - k) < Math.abs(best - k)) best = q;
    return medIn.get(best)!;
  };
  let inMae = 0;
  for (let i = half; i < pop.length; i++) inMae += Math.abs(nearest(pop[i]!.nIn) - pop[i]!.lm) / (pop.length - half);
  return { maeFloorDex: sampleMae, maeFloorPopulationDex: popMae, maeFloorInCutoutDex: inMae, meanFractionInCutout: frac };
}

/** In-sample least-squares fit of log M = a + b log10(richness), and its MAE: the richness baseline. */
export function richnessBaseline(sample: readonly { logM500: number; richness: number }[]): { a: number; b: number; maeDex: number } {
  const xs = sample.map((c) => Math.log10(c.richness));
  const ys = sample.map((c) => c.logM500);
  const n = xs.length;
  const mx = xs.reduce((s, v) => s + v, 0) / n;
  const my = ys.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  const b = sxy / sxx;
  const a = my - b * mx;
  let mae = 0;
  for (let i = 0; i < n; i++) mae += Math.abs(a + b * xs[i]! - ys[i]!) / n;
  return { a, b, maeDex: mae };
}
