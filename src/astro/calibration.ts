// Measurements of a real frame that the simulated sky is calibrated on: sky level, pixel noise,
// PSF width, zero point and point-source depth. Each is a plain function of an SdssFrame and a
// pixel region so the figures in docs/astro.md can be regenerated (bench/astro/calibrate.ts) and
// tested. The region matters: the shipped field 2583-2-136 lies on the globular cluster M2, whose
// unresolved stars inflate the noise within ~5' of pixel (212, 924).
import { skyCounts, type SdssFrame } from './sdss-frame.js';
import { pixelScaleArcsec } from './wcs.js';

function quantile(sorted: ArrayLike<number>, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(p * sorted.length)))]!;
}

/** A pixel box [x0, x1) x [y0, y1). */
export interface Region {
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
}

export const wholeFrame = (f: SdssFrame): Region => ({ x0: 0, x1: f.width, y0: 0, y1: f.height });

/** Mean sky under a region: counts per pixel, nanomaggies per pixel, mag per arcsec^2. */
export function skyLevel(f: SdssFrame, r: Region = wholeFrame(f)): { counts: number; nmgyPerPixel: number; magPerArcsec2: number } {
  let s = 0;
  let n = 0;
  for (let y = r.y0; y < r.y1; y += 16) for (let x = r.x0; x < r.x1; x += 16) {
    s += skyCounts(f, x, y);
    n++;
  }
  const counts = s / n;
  const nmgyPerPixel = counts * f.nmgy;
  const scale = pixelScaleArcsec(f.wcs);
  return { counts, nmgyPerPixel, magPerArcsec2: 22.5 - 2.5 * Math.log10(nmgyPerPixel / (scale * scale)) };
}

/**
 * Pixel noise (nanomaggies) of the sky-subtracted image in a region: the median absolute deviation
 * of the pixel values, scaled to a Gaussian sigma. Robust to the few percent of pixels on sources;
 * choose a region away from crowding (see the note at the top).
 */
export function pixelNoise(f: SdssFrame, r: Region = wholeFrame(f)): number {
  const v: number[] = [];
  for (let y = r.y0; y < r.y1; y += 2) for (let x = r.x0; x < r.x1; x += 2) v.push(f.image[y * f.width + x]!);
  const sorted = Float64Array.from(v).sort();
  const med = quantile(sorted, 0.5);
  const dev = Float64Array.from(v, (x) => Math.abs(x - med)).sort();
  return quantile(dev, 0.5) * 1.4826;
}

export interface PsfMeasurement {
  /** FWHM in arcsec of a circular Gaussian matched to the stars' adaptive second moments. */
  readonly fwhmArcsec: number;
  readonly stars: number;
}

/**
 * PSF width from the compact, bright, isolated sources: adaptive (Gaussian-weighted) second moments
 * per source, then the median of the narrowest half, which is the stellar locus (galaxies are wider).
 */
export function psfWidth(f: SdssFrame, r: Region = wholeFrame(f), noise = pixelNoise(f, r)): PsfMeasurement {
  const { width: W, image } = f;
  const R = 12;
  const sigmas: number[] = [];
  for (let y = Math.max(R, r.y0); y < Math.min(f.height - R, r.y1); y++) for (let x = Math.max(R, r.x0); x < Math.min(W - R, r.x1); x++) {
    const v = image[y * W + x]!;
    // Bright enough for a clean moment, faint enough to be well below saturation (~20k counts peak).
    if (v < 80 * noise || v / f.nmgy > 12000) continue;
    let isMax = true;
    for (let dy = -R; dy <= R && isMax; dy++) for (let dx = -R; dx <= R; dx++) {
      if ((dx || dy) && image[(y + dy) * W + x + dx]! > v) { isMax = false; break; }
    }
    if (!isMax) continue;
    // Adaptive moments: iterate a Gaussian weight matched to the source.
    let s2 = 2.0;
    let cx = x;
    let cy = y;
    let good = true;
    for (let it = 0; it < 30; it++) {
      let sw = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
      for (let dy = -R; dy <= R; dy++) for (let dx = -R; dx <= R; dx++) {
        const px = x + dx;
        const py = y + dy;
        const ex = px - cx;
        const ey = py - cy;
        const w = Math.exp(-(ex * ex + ey * ey) / (2 * s2));
        const val = image[py * W + px]! * w;
        sw += val; sx += val * ex; sy += val * ey; sxx += val * ex * ex; syy += val * ey * ey;
      }
      if (sw <= 0) { good = false; break; }
      cx += sx / sw;
      cy += sy / sw;
      // For a Gaussian source of variance S and weight variance s2, the weighted variance is
      // S*s2/(S+s2); adaptive moments converge to s2 = S when the weight is updated to 2x it.
      const m = (sxx + syy) / (2 * sw);
      const next = 2 * m;
      if (!(next > 0.1 && next < 50)) { good = false; break; }
      if (Math.abs(next - s2) < 1e-4) { s2 = next; break; }
      s2 = next;
    }
    if (good) sigmas.push(Math.sqrt(s2));
  }
  sigmas.sort((a, b) => a - b);
  const narrow = sigmas.slice(0, Math.max(1, Math.ceil(sigmas.length / 2)));
  const sigma = quantile(narrow, 0.5);
  return { fwhmArcsec: 2 * Math.sqrt(2 * Math.LN2) * sigma * pixelScaleArcsec(f.wcs), stars: narrow.length };
}

/** Magnitude of a source giving one count (DN) in this frame: 22.5 - 2.5 log10(NMGY). */
export function zeroPoint(f: SdssFrame): number {
  return 22.5 - 2.5 * Math.log10(f.nmgy);
}

/** 5-sigma point-source depth for a Gaussian PSF: noise over an effective area of 4 pi sigma^2. */
export function pointSourceDepth(noiseNmgy: number, fwhmArcsec: number, scaleArcsec: number): number {
  const sigmaPx = fwhmArcsec / scaleArcsec / (2 * Math.sqrt(2 * Math.LN2));
  const flux5 = 5 * noiseNmgy * Math.sqrt(4 * Math.PI * sigmaPx * sigmaPx);
  return 22.5 - 2.5 * Math.log10(flux5);
}

export interface BandMeasurement {
  readonly band: string;
  readonly nmgy: number;
  readonly zeroPoint: number;
  readonly skyCounts: number;
  readonly skyMagPerArcsec2: number;
  readonly noiseNmgy: number;
  readonly noiseCounts: number;
  readonly psfFwhmArcsec: number;
  readonly psfStars: number;
  readonly depth5sigma: number;
}

/** All the calibration figures of one frame, measured in `r`. */
export function measureFrame(f: SdssFrame, r: Region = wholeFrame(f)): BandMeasurement {
  const noise = pixelNoise(f, r);
  const psf = psfWidth(f, r, noise);
  const sky = skyLevel(f, r);
  const scale = pixelScaleArcsec(f.wcs);
  return {
    band: f.band, nmgy: f.nmgy, zeroPoint: zeroPoint(f), skyCounts: sky.counts, skyMagPerArcsec2: sky.magPerArcsec2,
    noiseNmgy: noise, noiseCounts: noise / f.nmgy, psfFwhmArcsec: psf.fwhmArcsec, psfStars: psf.stars,
    depth5sigma: pointSourceDepth(noise, psf.fwhmArcsec, scale),
  };
}

/** The part of frame 2583-2-136 used for calibration: columns >= 1280, more than 5' from M2's centre. */
export const CLEAN_REGION_2583_2_136: Region = { x0: 1280, x1: 2048, y0: 0, y1: 1489 };
