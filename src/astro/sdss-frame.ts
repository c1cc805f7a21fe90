// An SDSS corrected frame (frame-*.fits.bz2, imaging rerun 301) as the data model describes it:
// HDU0 the calibrated, sky-subtracted image in nanomaggies with a TAN WCS; HDU1 the calibration
// vector (nanomaggies per count, one value per column); HDU2 the sky grid with interpolation
// positions; HDU3 the astrometric trace table. Counts are recovered as img / calibvec + sky.
import { fitsError, formatFitsError, type FitsError } from './fits-error.js';
import { getNumber, getString, type Header } from './fits-header.js';
import { readFitsFile, parseFitsBytes } from './fits-file.js';
import { readImage } from './fits-image.js';
import type { FitsFile } from './fits-structure.js';
import { findColumn, readTable } from './fits-table.js';
import { err, ok, type Result } from '../core/result.js';
import { wcsFromHeader, type TanWcs } from './wcs.js';

export const BANDS = ['u', 'g', 'r', 'i', 'z'] as const;
export type Band = (typeof BANDS)[number];
export const isBand = (s: string): s is Band => (BANDS as readonly string[]).includes(s);

export interface SdssFrame {
  readonly file: string;
  readonly header: Header;
  readonly band: Band;
  readonly run: number;
  readonly camcol: number;
  readonly field: number;
  readonly width: number;
  readonly height: number;
  /** Calibrated, sky-subtracted image in nanomaggies, x (column) fastest. */
  readonly image: Float32Array;
  readonly wcs: TanWcs;
  /** Header NMGY: the frame's mean nanomaggies per count. */
  readonly nmgy: number;
  /** Nanomaggies per count for each column (HDU1). */
  readonly calibvec: Float32Array;
  /** The coarse sky grid in counts (HDU2 ALLSKY), `skyWidth` fastest, with its interpolation positions. */
  readonly sky: { readonly grid: Float32Array; readonly width: number; readonly height: number; readonly xinterp: Float32Array; readonly yinterp: Float32Array } | undefined;
}

function f32(values: Float64Array): Float32Array {
  return Float32Array.from(values);
}

/** Interprets a parsed FITS file as an SDSS frame; every missing piece is a located error. */
export function frameFromFits(f: FitsFile): Result<SdssFrame, FitsError> {
  const h0 = f.hdus[0];
  if (!h0) return err(fitsError('missing', f.file, null, 0, 'no primary HDU'));
  const img = readImage(f, h0);
  if (!img.ok) return img;
  if (img.value.shape.length !== 2) return err(fitsError('malformed', f.file, h0.headerStart, 0, `frame image has ${img.value.shape.length} axes, expected 2`));
  const [width, height] = img.value.shape as [number, number];
  const image = img.value.data instanceof Float32Array ? img.value.data : Float32Array.from(img.value.data);
  const h = h0.header;
  const band = (getString(h, 'FILTER') ?? '').trim();
  if (!isBand(band)) return err(fitsError('malformed', f.file, h0.headerStart, 0, `FILTER = '${band}' is not one of u, g, r, i, z`));
  const run = getNumber(h, 'RUN');
  const camcol = getNumber(h, 'CAMCOL');
  const field = getNumber(h, 'FRAME');
  const nmgy = getNumber(h, 'NMGY');
  if (run === undefined || camcol === undefined || field === undefined || nmgy === undefined) {
    return err(fitsError('malformed', f.file, h0.headerStart, 0, 'frame header needs RUN, CAMCOL, FRAME and NMGY'));
  }
  const wcs = wcsFromHeader(h, f.file, 0);
  if (!wcs.ok) return wcs;
  const h1 = f.hdus[1];
  if (!h1) return err(fitsError('missing', f.file, null, 1, 'no HDU1 (calibration vector)'));
  const cv = readImage(f, h1);
  if (!cv.ok) return cv;
  if (cv.value.data.length !== width) {
    return err(fitsError('malformed', f.file, h1.headerStart, 1, `calibration vector has ${cv.value.data.length} values, the image ${width} columns`));
  }
  const calibvec = cv.value.data instanceof Float32Array ? cv.value.data : Float32Array.from(cv.value.data);
  let sky: SdssFrame['sky'];
  const h2 = f.hdus[2];
  if (h2) {
    const t = readTable(f, h2);
    if (!t.ok) return t;
    const all = findColumn(t.value, 'ALLSKY');
    const xi = findColumn(t.value, 'XINTERP');
    const yi = findColumn(t.value, 'YINTERP');
    if (all?.data.type === 'number' && xi?.data.type === 'number' && yi?.data.type === 'number') {
      const [sw, sh] = all.dim ?? [256, all.repeat / 256];
      sky = { grid: f32(all.data.values), width: sw!, height: sh!, xinterp: f32(xi.data.values), yinterp: f32(yi.data.values) };
    }
  }
  return ok({ file: f.file, header: h, band, run, camcol, field, width, height, image, wcs: wcs.value, nmgy, calibvec, sky });
}

export async function readFrame(path: string): Promise<Result<SdssFrame, FitsError>> {
  const f = await readFitsFile(path);
  return f.ok ? frameFromFits(f.value) : f;
}

export async function readFrameBytes(bytes: Uint8Array, label: string, bz2: boolean): Promise<Result<SdssFrame, FitsError>> {
  const f = await parseFitsBytes(bytes, label, bz2);
  return f.ok ? frameFromFits(f.value) : f;
}

/** The sky in counts at pixel (x, y): bilinear interpolation of the grid at (XINTERP[x], YINTERP[y]). */
export function skyCounts(frame: SdssFrame, x: number, y: number): number {
  const s = frame.sky;
  if (!s) return NaN;
  const gx = Math.min(Math.max(s.xinterp[x] ?? 0, 0), s.width - 1);
  const gy = Math.min(Math.max(s.yinterp[y] ?? 0, 0), s.height - 1);
  const x0 = Math.min(Math.floor(gx), s.width - 2);
  const y0 = Math.min(Math.floor(gy), s.height - 2);
  const fx = gx - x0;
  const fy = gy - y0;
  const g = (i: number, j: number) => s.grid[j * s.width + i]!;
  return (1 - fy) * ((1 - fx) * g(x0, y0) + fx * g(x0 + 1, y0)) + fy * ((1 - fx) * g(x0, y0 + 1) + fx * g(x0 + 1, y0 + 1));
}

/** Raw counts (data numbers, before soft bias) at a pixel: img / calibvec + sky. */
export function countsAt(frame: SdssFrame, x: number, y: number): number {
  return frame.image[y * frame.width + x]! / frame.calibvec[x]! + skyCounts(frame, x, y);
}

/** For callers that must fail loudly (stages, benches). */
export async function mustReadFrame(path: string): Promise<SdssFrame> {
  const r = await readFrame(path);
  if (!r.ok) throw new Error(formatFitsError(r.error));
  return r.value;
}
