// Cutouts: a square of fixed physical size (from z) or fixed angle around a centre, on a tangent
// plane at that centre, north up and east left, resampled to N x N pixels from any number of
// frames (each band's frame has its own WCS), then asinh-stretched.
//
// Resampling: when an output pixel covers >= 1.5 native pixels, native pixels are averaged into the
// output pixel that contains their centre (flux-conserving box binning; the result is in the
// frame's units, nanomaggies per native pixel). Smaller output pixels take bilinear samples.
// Output pixels no frame covers stay empty (masked).
import { mpcToDeg } from './cosmology.js';
import { deproject, pixToSky, project, skyToPix, type TanWcs } from './wcs.js';

export interface CutoutGeometry {
  readonly ra: number;
  readonly dec: number;
  /** Side of the square in degrees. */
  readonly sideDeg: number;
  /** Output pixels per side. */
  readonly n: number;
}

export function physicalSideDeg(sizeMpc: number, z: number): number {
  return mpcToDeg(sizeMpc, z);
}

/**
 * Frame pixel -> output pixel as an affine map, fitted exactly at the cutout centre and at points
 * one half-side away (the gnomonic-to-gnomonic map's curvature over a cutout is < 1e-3 output px).
 */
export interface Affine { a: number; b: number; c: number; d: number; e: number; f: number }

/** Output pixel (col, row) of a sky position: col 0 is east, row 0 is north. */
export function skyToOut(g: CutoutGeometry, ra: number, dec: number): { col: number; row: number } | null {
  const p = project(g.ra, g.dec, ra, dec);
  if (!p) return null;
  const step = (g.sideDeg * Math.PI) / 180 / g.n;
  return { col: g.n / 2 - 0.5 - p[0] / step, row: g.n / 2 - 0.5 - p[1] / step };
}

export function outToSky(g: CutoutGeometry, col: number, row: number): { ra: number; dec: number } {
  const step = (g.sideDeg * Math.PI) / 180 / g.n;
  return deproject(g.ra, g.dec, (g.n / 2 - 0.5 - col) * step, (g.n / 2 - 0.5 - row) * step);
}

export function frameToOutAffine(g: CutoutGeometry, wcs: TanWcs): Affine | null {
  const c = skyToPix(wcs, g.ra, g.dec);
  if (!c) return null;
  const h = Math.max(1, (g.sideDeg * 3600) / 0.4 / 2);
  const at = (x: number, y: number) => {
    const s = pixToSky(wcs, x, y);
    return skyToOut(g, s.ra, s.dec);
  };
  const o = at(c.x, c.y);
  const px = at(c.x + h, c.y);
  const py = at(c.x, c.y + h);
  if (!o || !px || !py) return null;
  const a = (px.col - o.col) / h;
  const b = (py.col - o.col) / h;
  const d = (px.row - o.row) / h;
  const e = (py.row - o.row) / h;
  return { a, b, c: o.col - a * c.x - b * c.y, d, e, f: o.row - d * c.x - e * c.y };
}

/** Output-pixel sums and sample counts for one band of one cutout. */
export interface Accumulator {
  readonly sum: Float64Array;
  readonly count: Float64Array;
}

export const newAccumulator = (n: number): Accumulator => ({ sum: new Float64Array(n * n), count: new Float64Array(n * n) });

/**
 * Adds one frame's pixels (image W x H, nanomaggies) to a cutout's accumulator. Returns whether
 * the frame touched the cutout at all.
 */
export function accumulate(acc: Accumulator, g: CutoutGeometry, wcs: TanWcs, image: Float32Array, W: number, H: number): boolean {
  const m = frameToOutAffine(g, wcs);
  if (!m) return false;
  const n = g.n;
  const det = m.a * m.e - m.b * m.d;
  // Native pixels per output pixel (linear).
  const ratio = 1 / Math.sqrt(Math.abs(det));
  // Inverse map: output -> frame.
  const ia = m.e / det;
  const ib = -m.b / det;
  const id = -m.d / det;
  const ie = m.a / det;
  const toFrame = (col: number, row: number) => {
    const u = col - m.c;
    const v = row - m.f;
    return { x: ia * u + ib * v, y: id * u + ie * v };
  };
  // Frame-pixel box of the cutout's corners.
  const corners = [toFrame(-0.5, -0.5), toFrame(n - 0.5, -0.5), toFrame(-0.5, n - 0.5), toFrame(n - 0.5, n - 0.5)];
  const x0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p.x))));
  const x1 = Math.min(W - 1, Math.ceil(Math.max(...corners.map((p) => p.x))));
  const y0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p.y))));
  const y1 = Math.min(H - 1, Math.ceil(Math.max(...corners.map((p) => p.y))));
  if (x0 > x1 || y0 > y1) return false;
  let touched = false;
  if (ratio >= 1.5) {
    for (let y = y0; y <= y1; y++) {
      let col = m.a * x0 + m.b * y + m.c;
      let row = m.d * x0 + m.e * y + m.f;
      const row0 = y * W;
      for (let x = x0; x <= x1; x++, col += m.a, row += m.d) {
        const ic = Math.round(col);
        const ir = Math.round(row);
        if (ic < 0 || ic >= n || ir < 0 || ir >= n) continue;
        const v = image[row0 + x]!;
        if (Number.isNaN(v)) continue;
        const k = ir * n + ic;
        acc.sum[k]! += v;
        acc.count[k]! += 1;
        touched = true;
      }
    }
    return touched;
  }
  for (let row = 0; row < n; row++) for (let col = 0; col < n; col++) {
    const p = toFrame(col, row);
    if (p.x < 0 || p.y < 0 || p.x > W - 1 || p.y > H - 1) continue;
    const xi = Math.min(Math.floor(p.x), W - 2);
    const yi = Math.min(Math.floor(p.y), H - 2);
    const fx = p.x - xi;
    const fy = p.y - yi;
    const i = yi * W + xi;
    const v = (1 - fy) * ((1 - fx) * image[i]! + fx * image[i + 1]!) + fy * ((1 - fx) * image[i + W]! + fx * image[i + W + 1]!);
    if (Number.isNaN(v)) continue;
    acc.sum[row * n + col]! += v;
    acc.count[row * n + col]! += 1;
    touched = true;
  }
  return touched;
}

/** Whether a frame (W x H, its WCS) overlaps a cutout at all. */
export function overlaps(g: CutoutGeometry, wcs: TanWcs, W: number, H: number): boolean {
  const c = skyToPix(wcs, g.ra, g.dec);
  if (!c) return false;
  // Half-diagonal of the cutout in frame pixels (pixel scale from the CD matrix).
  const [[a, b], [cc, d]] = wcs.cd;
  const scaleDeg = Math.sqrt(Math.abs(a * d - b * cc));
  const r = (g.sideDeg / scaleDeg) * Math.SQRT1_2 + 2;
  return c.x + r >= 0 && c.x - r <= W - 1 && c.y + r >= 0 && c.y - r <= H - 1;
}

/** Whether the centre lies on the frame. */
export function containsCentre(g: CutoutGeometry, wcs: TanWcs, W: number, H: number): boolean {
  const c = skyToPix(wcs, g.ra, g.dec);
  return !!c && c.x >= -0.5 && c.x <= W - 0.5 && c.y >= -0.5 && c.y <= H - 0.5;
}

/**
 * asinh stretch of the averaged cutout into `out` (offset `o`, stride `bands` for NHWC):
 * value = asinh(mean / softening) / norm; empty pixels are 0. Returns the count of empty pixels.
 */
export function stretchInto(acc: Accumulator, out: Float32Array, o: number, stride: number, softening: number, norm: number): number {
  let empty = 0;
  for (let k = 0; k < acc.sum.length; k++) {
    const c = acc.count[k]!;
    if (c === 0) {
      out[o + k * stride] = 0;
      empty++;
      continue;
    }
    out[o + k * stride] = Math.asinh(acc.sum[k]! / c / softening) / norm;
  }
  return empty;
}
