// The cluster model of the simulated sky, in physical units (Msun, Mpc, h = 0.7; magnitudes in
// the SDSS/AB system, fluxes in nanomaggies).
//
// - Mass: log10 M500 drawn from a power law p(log M) ~ 10^(-slope (log M - logMMin)) on a range.
// - Members: N_true ~ Poisson(mean(M) * exp(sigma * eps - sigma^2 / 2)), mean(M) = norm * (M / pivot)^alpha,
//   the red-sequence members brighter than 0.2 L* (what redMaPPer's lambda counts), BCG included.
// - Everything drawn in the image depends on M only through N_true: members are spread with a
//   projected NFW profile inside R500 of the mass the mean relation assigns to N_true, and the
//   BCG's luminosity follows N_true. So the estimator that knows N_true is the best any image-based
//   estimator can do, and its MAE is a true floor.
// - Luminosities: Schechter (alpha_LF) above 0.2 L*; m*_i(z) from the distance modulus with an
//   approximate k+e correction; red-sequence colours by redshift (table below, approximate
//   passive-galaxy colours), with a tilt and 0.05 mag scatter.
import { distanceModulus, mpcToDeg, r500Mpc } from '../cosmology.js';
import type { Rng } from './rng.js';

export interface ClusterModelParams {
  readonly logMMin: number;
  readonly logMMax: number;
  readonly massSlope: number;
  readonly richnessNorm: number;
  readonly richnessPivot: number;
  readonly richnessSlope: number;
  readonly richnessScatter: number;
  readonly concentration: number;
  readonly lfAlpha: number;
}

export const DEFAULT_MODEL: ClusterModelParams = {
  logMMin: 13.9, logMMax: 15.3, massSlope: 0.8,
  richnessNorm: 20, richnessPivot: 1e14, richnessSlope: 0.9, richnessScatter: 0.25,
  concentration: 3, lfAlpha: -1.0,
};

/** log10 M500 from the truncated power law, by inverting its CDF. */
export function sampleLogMass(rng: Rng, p: ClusterModelParams): number {
  const u = rng.uniform();
  if (p.massSlope === 0) return p.logMMin + u * (p.logMMax - p.logMMin);
  const k = p.massSlope * Math.LN10;
  const span = 1 - Math.exp(-k * (p.logMMax - p.logMMin));
  return p.logMMin - Math.log(1 - u * span) / k;
}

export function meanMembers(m500: number, p: ClusterModelParams): number {
  return p.richnessNorm * (m500 / p.richnessPivot) ** p.richnessSlope;
}

/** The mass the mean relation assigns to a member count (inverse of meanMembers). */
export function massForMembers(n: number, p: ClusterModelParams): number {
  return p.richnessPivot * (Math.max(n, 1) / p.richnessNorm) ** (1 / p.richnessSlope);
}

export function sampleMembers(rng: Rng, m500: number, p: ClusterModelParams): number {
  const s = p.richnessScatter;
  const mean = meanMembers(m500, p) * Math.exp(s * rng.normal() - (s * s) / 2);
  return Math.max(1, rng.poisson(mean));
}

// ---- projected NFW ----

/** Projected NFW mass inside projected radius x (in units of r_s), up to a constant. */
function nfwProjectedCum(x: number): number {
  if (x <= 0) return 0;
  if (Math.abs(x - 1) < 1e-6) return Math.log(0.5) + 1;
  if (x < 1) return Math.log(x / 2) + Math.acosh(1 / x) / Math.sqrt(1 - x * x);
  return Math.log(x / 2) + Math.acos(1 / x) / Math.sqrt(x * x - 1);
}

/** Inverse-CDF table of the projected radius (in units of the truncation radius) for concentration c. */
export function nfwRadiusTable(c: number, n = 512): Float64Array {
  const total = nfwProjectedCum(c);
  const xs = new Float64Array(n + 1);
  // Tabulate CDF on a fine grid, then invert at equally spaced quantiles.
  const grid = 4096;
  const cdf = new Float64Array(grid + 1);
  for (let i = 1; i <= grid; i++) cdf[i] = nfwProjectedCum((c * i) / grid) / total;
  let j = 0;
  for (let k = 0; k <= n; k++) {
    const q = k / n;
    while (j < grid && cdf[j + 1]! < q) j++;
    const lo = cdf[j]!;
    const hi = cdf[Math.min(grid, j + 1)]!;
    const f = hi > lo ? (q - lo) / (hi - lo) : 0;
    xs[k] = Math.min(1, (j + f) / grid);
  }
  return xs;
}

/** A projected radius in units of the truncation radius. */
export function sampleNfwRadius(rng: Rng, table: Float64Array): number {
  const u = rng.uniform() * (table.length - 1);
  const k = Math.floor(u);
  const f = u - k;
  return table[k]! * (1 - f) + table[Math.min(table.length - 1, k + 1)]! * f;
}

// ---- luminosity function ----

/** Inverse-CDF table of L/L* for a Schechter function with slope alpha truncated to [0.2, 12]. */
export function schechterTable(alpha: number, n = 1024): Float64Array {
  const lo = Math.log(0.2);
  const hi = Math.log(12);
  const grid = 4096;
  const cdf = new Float64Array(grid + 1);
  // dN/dlnx = x^(alpha+1) e^-x
  let prev = Math.exp((alpha + 1) * lo - Math.exp(lo));
  for (let i = 1; i <= grid; i++) {
    const lx = lo + ((hi - lo) * i) / grid;
    const v = Math.exp((alpha + 1) * lx - Math.exp(lx));
    cdf[i] = cdf[i - 1]! + ((prev + v) / 2) * ((hi - lo) / grid);
    prev = v;
  }
  const out = new Float64Array(n + 1);
  let j = 0;
  for (let k = 0; k <= n; k++) {
    const q = (k / n) * cdf[grid]!;
    while (j < grid && cdf[j + 1]! < q) j++;
    const a = cdf[j]!;
    const b = cdf[Math.min(grid, j + 1)]!;
    const f = b > a ? (q - a) / (b - a) : 0;
    out[k] = Math.exp(lo + ((hi - lo) * (j + f)) / grid);
  }
  return out;
}

export function sampleFromTable(rng: Rng, table: Float64Array): number {
  return sampleNfwRadius(rng, table);
}

// ---- magnitudes and colours ----

/** Characteristic apparent i magnitude of red-sequence galaxies at z (M*_i = -21.9, k+e ~ -0.2 z). */
export function mStarI(z: number): number {
  return distanceModulus(z) - 21.9 - 0.2 * z;
}

// Approximate colours of a passive (red-sequence) galaxy observed at z: u-g, g-r, r-i, i-z.
const RS_Z = [0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8];
const RS = [
  [1.70, 0.75, 0.38, 0.30],
  [1.75, 0.80, 0.40, 0.32],
  [1.85, 0.90, 0.42, 0.33],
  [2.05, 1.20, 0.47, 0.35],
  [2.25, 1.50, 0.55, 0.38],
  [2.45, 1.70, 0.70, 0.40],
  [2.60, 1.80, 0.90, 0.45],
  [2.70, 1.85, 1.05, 0.50],
  [2.80, 1.90, 1.20, 0.70],
];

export type Colours = readonly [number, number, number, number];

export function redSequenceColours(z: number): Colours {
  const zc = Math.min(Math.max(z, 0), RS_Z[RS_Z.length - 1]!);
  let k = 0;
  while (k < RS_Z.length - 2 && RS_Z[k + 1]! < zc) k++;
  const f = (zc - RS_Z[k]!) / (RS_Z[k + 1]! - RS_Z[k]!);
  const a = RS[k]!;
  const b = RS[k + 1]!;
  return [0, 1, 2, 3].map((i) => a[i]! * (1 - f) + b[i]! * f) as unknown as Colours;
}

/** Band magnitudes [u, g, r, i, z] from an i magnitude and colours (u-g, g-r, r-i, i-z). */
export function magsFromI(mi: number, c: Colours): [number, number, number, number, number] {
  const r = mi + c[2];
  const g = r + c[1];
  const u = g + c[0];
  const zb = mi - c[3];
  return [u, g, r, mi, zb];
}

export const nanomaggies = (mag: number) => 10 ** (-0.4 * (mag - 22.5));

// ---- one cluster ----

export interface Galaxy {
  /** Offsets from the cluster centre in degrees: east (+RA) and north (+Dec). */
  readonly dxDeg: number;
  readonly dyDeg: number;
  /** Fluxes in nanomaggies, [u, g, r, i, z]. */
  readonly flux: readonly number[];
  /** Half-light radius in arcsec, axis ratio, position angle (rad). */
  readonly reArcsec: number;
  readonly q: number;
  readonly pa: number;
  readonly profile: 'dev' | 'gauss';
}

export interface SimCluster {
  readonly logM500: number;
  readonly z: number;
  readonly membersTrue: number;
  /** Radius (Mpc) inside which members are placed: R500 of the mass the mean relation gives N_true. */
  readonly rMembersMpc: number;
  readonly galaxies: readonly Galaxy[];
}

export interface ModelTables {
  readonly nfw: Float64Array;
  readonly lf: Float64Array;
}

export function modelTables(p: ClusterModelParams): ModelTables {
  return { nfw: nfwRadiusTable(p.concentration), lf: schechterTable(p.lfAlpha) };
}

function galaxyAt(rng: Rng, z: number, lOverLstar: number, dxDeg: number, dyDeg: number, bcg: boolean): Galaxy {
  const mi = mStarI(z) - 2.5 * Math.log10(lOverLstar);
  const rs = redSequenceColours(z);
  // Red-sequence tilt (brighter is redder) and intrinsic colour scatter.
  const tilt = -0.03 * (mi - mStarI(z));
  const c: Colours = [rs[0] + tilt + 0.08 * rng.normal(), rs[1] + tilt + 0.05 * rng.normal(), rs[2] + tilt / 2 + 0.04 * rng.normal(), rs[3] + 0.04 * rng.normal()];
  const flux = magsFromI(mi, c).map(nanomaggies);
  // Early-type sizes: r_e ~ 4 kpc (L/L*)^0.55, BCGs larger; 0.2 dex scatter.
  const reKpc = (bcg ? 12 : 4) * lOverLstar ** 0.55 * 10 ** (0.1 * rng.normal());
  const reArcsec = (mpcToDeg(reKpc / 1000, z) * 3600);
  return { dxDeg, dyDeg, flux, reArcsec, q: 0.6 + 0.4 * rng.uniform(), pa: Math.PI * rng.uniform(), profile: 'dev' };
}

/** Draws one cluster: mass, members and their galaxies (offsets in degrees from the centre). */
export function drawCluster(rng: Rng, logM500: number, z: number, p: ClusterModelParams, t: ModelTables): SimCluster {
  const m500 = 10 ** logM500;
  const n = sampleMembers(rng, m500, p);
  const rMembersMpc = r500Mpc(massForMembers(n, p), z);
  const rDeg = mpcToDeg(rMembersMpc, z);
  const galaxies: Galaxy[] = [];
  // BCG at the centre; its luminosity grows with the member count (never with M directly).
  const lBcg = 3 * (n / 40) ** 0.3 * 10 ** (0.06 * rng.normal());
  galaxies.push(galaxyAt(rng, z, Math.max(lBcg, 1.5), 0, 0, true));
  for (let k = 1; k < n; k++) {
    const r = sampleNfwRadius(rng, t.nfw) * rDeg;
    const th = 2 * Math.PI * rng.uniform();
    galaxies.push(galaxyAt(rng, z, sampleFromTable(rng, t.lf), r * Math.cos(th), r * Math.sin(th), false));
  }
  return { logM500, z, membersTrue: n, rMembersMpc, galaxies };
}
