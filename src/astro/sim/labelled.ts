// The labelled sample's distributions. Masses come from X-ray or SZ catalogues, which see the massive,
// nearby clusters, so the clusters with a mass label are not drawn like the rest of the sky: their
// log M500 and z follow distributions measured on the real labelled set (calibrate.ts), stored as
// quantile knots (equally spaced in probability, the first the minimum and the last the maximum).
// Between knots the distribution is uniform, so the CDF is piecewise linear.
import type { Rng } from './rng.js';

/** Quantile knots of a distribution: knots[i] is the i/(n-1) quantile. */
export type Knots = readonly number[];

/** A problem with a knot list, or null when it is usable. */
export function checkKnots(knots: Knots, what: string): string | null {
  if (knots.length < 2) return `${what} needs at least 2 quantile knots (minimum and maximum), got ${knots.length}`;
  for (let i = 1; i < knots.length; i++) {
    if (!(knots[i]! >= knots[i - 1]!)) return `${what} knots must not decrease: knot ${i} (${knots[i]}) < knot ${i - 1} (${knots[i - 1]})`;
  }
  return null;
}

/** Inverse-CDF draw. */
export function sampleKnots(rng: Rng, knots: Knots): number {
  const t = rng.uniform() * (knots.length - 1);
  const i = Math.min(knots.length - 2, Math.floor(t));
  return knots[i]! + (t - i) * (knots[i + 1]! - knots[i]!);
}

/** Probability density at x (0 outside the knots; a zero-width interval gives no density). */
export function knotDensity(knots: Knots, x: number): number {
  const n = knots.length - 1;
  for (let i = 0; i < n; i++) {
    const lo = knots[i]!, hi = knots[i + 1]!;
    if (x >= lo && x <= hi && hi > lo) return 1 / (n * (hi - lo));
  }
  return 0;
}

/** The `n` equally spaced quantiles (linear interpolation between order statistics) of `values`. */
export function quantileKnots(values: readonly number[], n: number): number[] {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) throw new Error('no values to take quantiles of');
  return Array.from({ length: n }, (_, i) => {
    const t = (i / (n - 1)) * (s.length - 1);
    const j = Math.min(s.length - 2, Math.floor(t));
    return s.length === 1 ? s[0]! : s[j]! + (t - j) * (s[j + 1]! - s[j]!);
  });
}
