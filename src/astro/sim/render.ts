// Drawing sources into a frame: each source is an elliptical Gaussian (its half-light radius,
// axis ratio and angle), or for early types a three-Gaussian approximation of a de Vaucouleurs
// profile (a bright core and extended wings with the same half-light radius), convolved with a
// Gaussian PSF of the band's measured FWHM. Stamps are normalised so the pixels sum to the flux.
// Then sky noise and source Poisson noise.
import type { BandCalibration } from './calibration.js';
import { normalTable, type Rng } from './rng.js';

const FWHM_TO_SIGMA = 1 / (2 * Math.sqrt(2 * Math.LN2));
const RE_TO_SIGMA = 1 / Math.sqrt(2 * Math.LN2); // a 2-D Gaussian's half-light radius is 1.1774 sigma

export interface RenderSource {
  readonly x: number;
  readonly y: number;
  /** Flux in this band, nanomaggies. */
  readonly flux: number;
  readonly reArcsec: number;
  readonly q: number;
  readonly pa: number;
  /** 'dev' for early types (cluster members, red field galaxies); a plain Gaussian otherwise. */
  readonly profile?: 'dev' | 'gauss';
}

// (flux fraction, sigma / r_e): half the light falls within ~r_e, a fifth in a core of 0.1 r_e.
const DEV_MIX = [[0.2, 0.1], [0.35, 0.55], [0.45, 2.0]] as const;

/** Adds one source to `img` (W x H, nanomaggies). Sources off the frame by more than their stamp are skipped. */
export function addSource(img: Float32Array, W: number, H: number, s: RenderSource, psfFwhmArcsec: number, scaleArcsec: number): void {
  if (!(s.flux > 0)) return;
  if (s.profile === 'dev' && s.reArcsec > 0) {
    for (const [w, k] of DEV_MIX) addGaussian(img, W, H, s.x, s.y, s.flux * w, (s.reArcsec * k) / scaleArcsec, s.q, s.pa, psfFwhmArcsec, scaleArcsec);
    return;
  }
  addGaussian(img, W, H, s.x, s.y, s.flux, (s.reArcsec * RE_TO_SIGMA) / scaleArcsec, s.q, s.pa, psfFwhmArcsec, scaleArcsec);
}

/** One elliptical Gaussian (major-axis sigma `a` in pixels) convolved with the PSF. */
function addGaussian(img: Float32Array, W: number, H: number, cx: number, cy: number, flux: number, a: number, q: number, pa: number, psfFwhmArcsec: number, scaleArcsec: number): void {
  const s = { x: cx, y: cy, flux, q, pa };
  const psf = (psfFwhmArcsec * FWHM_TO_SIGMA) / scaleArcsec;
  const b = a * s.q;
  const c = Math.cos(s.pa);
  const sn = Math.sin(s.pa);
  // Covariance of the galaxy rotated by pa, plus the PSF's.
  const sxx = a * a * c * c + b * b * sn * sn + psf * psf;
  const syy = a * a * sn * sn + b * b * c * c + psf * psf;
  const sxy = (a * a - b * b) * c * sn;
  const det = sxx * syy - sxy * sxy;
  const ixx = syy / det;
  const iyy = sxx / det;
  const ixy = -sxy / det;
  const R = Math.min(250, Math.ceil(4 * Math.sqrt(Math.max(sxx, syy))) + 1);
  const x0 = Math.max(0, Math.floor(s.x) - R);
  const x1 = Math.min(W - 1, Math.floor(s.x) + R + 1);
  const y0 = Math.max(0, Math.floor(s.y) - R);
  const y1 = Math.min(H - 1, Math.floor(s.y) + R + 1);
  if (x0 > x1 || y0 > y1) return;
  // Normalise over the full (unclipped) stamp so sources at the edge lose the flux that falls off.
  const norm = s.flux / (2 * Math.PI * Math.sqrt(det));
  for (let y = y0; y <= y1; y++) {
    const dy = y - s.y;
    const row = y * W;
    for (let x = x0; x <= x1; x++) {
      const dx = x - s.x;
      const e = 0.5 * (ixx * dx * dx + 2 * ixy * dx * dy + iyy * dy * dy);
      if (e < 12) img[row + x]! += norm * Math.exp(-e);
    }
  }
}

/**
 * Adds noise to a noiseless image (nanomaggies): white sky noise of the measured level plus the
 * sources' Poisson noise (variance = flux * NMGY / gain), and clips at the detector's saturation.
 * The square root is taken only where a source adds light: most of a frame is empty sky.
 */
export function addNoise(img: Float32Array, cal: BandCalibration, rng: Rng): void {
  const table = normalTable();
  const sky = cal.noiseNmgy;
  const s2 = sky * sky;
  const pois = cal.nmgy / cal.gain;
  const sat = (50000 - cal.skyCounts) * cal.nmgy;
  const n = img.length;
  // One random word gives two normals (rng.fillNormal's scheme, inlined to skip a scratch array).
  for (let i = 0; i < n; i += 2) {
    const w = rng.u32();
    const v0 = img[i]!;
    const a = v0 + (v0 > 0 ? Math.sqrt(s2 + v0 * pois) : sky) * table[w & 0xffff]!;
    img[i] = a > sat ? sat : a;
    if (i + 1 < n) {
      const v1 = img[i + 1]!;
      const b = v1 + (v1 > 0 ? Math.sqrt(s2 + v1 * pois) : sky) * table[w >>> 16]!;
      img[i + 1] = b > sat ? sat : b;
    }
  }
}
