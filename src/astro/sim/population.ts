// Field populations drawn uniformly over a frame: background galaxies (a mix of red and blue types
// at random redshifts, r-band counts rising 0.45 dex per magnitude) and stars (shallow counts along
// the stellar locus). Counts per square degree are the params; the defaults are typical of SDSS at
// high Galactic latitude.
import { magsFromI, nanomaggies, redSequenceColours, type Colours } from './model.js';
import type { Rng } from './rng.js';

export interface PopulationParams {
  /** Galaxies per deg^2 per mag at r = 20. */
  readonly galaxyDensity: number;
  /** Stars per deg^2 per mag at r = 20. */
  readonly starDensity: number;
  /** Faintest r magnitude drawn. */
  readonly faintLimit: number;
}

export const DEFAULT_POPULATION: PopulationParams = { galaxyDensity: 2500, starDensity: 500, faintLimit: 23.5 };

export interface FieldSource {
  /** 0-based frame pixel position. */
  readonly x: number;
  readonly y: number;
  readonly flux: readonly number[];
  /** Half-light radius in arcsec (0 for a star), axis ratio, position angle. */
  readonly reArcsec: number;
  readonly q: number;
  readonly pa: number;
  readonly profile: 'dev' | 'gauss';
}

/** Draws a magnitude from dN/dm ~ 10^(slope m) on [lo, hi]. */
function powerLawMag(rng: Rng, slope: number, lo: number, hi: number): number {
  const k = slope * Math.LN10;
  const a = Math.exp(k * lo);
  const b = Math.exp(k * hi);
  return Math.log(a + rng.uniform() * (b - a)) / k;
}

function expectedCount(density: number, slope: number, lo: number, hi: number, areaDeg2: number): number {
  const k = slope * Math.LN10;
  // density is per mag at r = 20: N = density * integral 10^(slope (m - 20)) dm
  return (areaDeg2 * density * (Math.exp(k * (hi - 20)) - Math.exp(k * (lo - 20)))) / k;
}

export function drawFieldSources(rng: Rng, width: number, height: number, scaleArcsec: number, p: PopulationParams): FieldSource[] {
  const area = (width * height * scaleArcsec * scaleArcsec) / 3600 ** 2;
  const out: FieldSource[] = [];
  const ng = rng.poisson(expectedCount(p.galaxyDensity, 0.45, 14, p.faintLimit, area));
  for (let i = 0; i < ng; i++) {
    const r = powerLawMag(rng, 0.45, 14, p.faintLimit);
    const red = rng.uniform() < 0.3;
    const z = 0.05 + 0.8 * rng.uniform() ** 0.7;
    const c: Colours = red
      ? redSequenceColours(z).map((v) => v + 0.08 * rng.normal()) as unknown as Colours
      : [1.1 + 0.3 * rng.normal(), 0.45 + 0.2 * rng.normal(), 0.3 + 0.12 * rng.normal(), 0.15 + 0.12 * rng.normal()];
    const mi = r - c[2];
    // Fainter galaxies are smaller: r_e ~ 1.5" at r = 20, 0.25 dex scatter.
    const re = 1.5 * 10 ** (-0.1 * (r - 20) + 0.25 * rng.normal());
    out.push({ x: rng.uniform() * width - 0.5, y: rng.uniform() * height - 0.5, flux: magsFromI(mi, c).map(nanomaggies), reArcsec: re, q: 0.3 + 0.7 * rng.uniform(), pa: Math.PI * rng.uniform(), profile: red ? 'dev' : 'gauss' });
  }
  const ns = rng.poisson(expectedCount(p.starDensity, 0.12, 14, p.faintLimit, area));
  for (let i = 0; i < ns; i++) {
    const r = powerLawMag(rng, 0.12, 14, p.faintLimit);
    // Stellar locus: g-r from blue turn-off stars to M dwarfs; other colours follow it.
    const gr = rng.uniform() < 0.7 ? 0.25 + 0.35 * rng.uniform() : 0.6 + 0.9 * rng.uniform();
    const ri = gr < 1.2 ? 0.38 * gr - 0.05 : 0.4 + 1.5 * (gr - 1.2);
    const c: Colours = [Math.min(2.8, 0.75 + 1.1 * gr), gr, ri, 0.5 * ri];
    out.push({ x: rng.uniform() * width - 0.5, y: rng.uniform() * height - 0.5, flux: magsFromI(r - c[2], c).map(nanomaggies), reArcsec: 0, q: 1, pa: 0, profile: 'gauss' });
  }
  return out;
}
