// Pixel maps to RGBA panels and PNG bytes (pngjs): the image-like parts of the explain figures.
import { PNG } from 'pngjs';

export interface Rgba { width: number; height: number; data: Uint8Array }

/** Values at the given quantiles of a map, for a display stretch that ignores a few hot pixels. */
export function quantiles(values: Float32Array, qs: readonly number[]): number[] {
  const s = Float32Array.from(values).sort();
  return qs.map((q) => s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))] ?? 0);
}

/** Greyscale panel from a size x size map, black at `lo`, white at `hi`. */
export function grey(map: Float32Array, size: number, lo: number, hi: number): Rgba {
  const data = new Uint8Array(size * size * 4);
  const span = hi > lo ? hi - lo : 1;
  for (let i = 0; i < size * size; i++) {
    const v = Math.round(255 * Math.min(1, Math.max(0, (map[i]! - lo) / span)));
    data.set([v, v, v, 255], i * 4);
  }
  return { width: size, height: size, data };
}

/**
 * Signed attributions over a dimmed copy of `base`: red where the pixel raises the predicted mass,
 * blue where it lowers it, opacity |a| / scale (clipped at 1).
 */
export function diverging(base: Rgba, attr: Float32Array, scale: number): Rgba {
  const out = new Uint8Array(base.data.length);
  const s = scale > 0 ? scale : 1;
  for (let i = 0; i < attr.length; i++) {
    const a = Math.min(1, Math.abs(attr[i]!) / s);
    const c = attr[i]! >= 0 ? [215, 25, 28] : [44, 123, 182];
    for (let k = 0; k < 3; k++) {
      const dim = base.data[i * 4 + k]! * 0.6;
      out[i * 4 + k] = Math.round(dim * (1 - a) + c[k]! * a);
    }
    out[i * 4 + 3] = 255;
  }
  return { width: base.width, height: base.height, data: out };
}

/** A non-negative map as a heat panel (black, red, yellow, white), normalised to its maximum. */
export function heat(map: Float32Array, size: number): Rgba {
  let max = 0;
  for (const v of map) max = Math.max(max, v);
  const data = new Uint8Array(size * size * 4);
  for (let i = 0; i < size * size; i++) {
    const t = max > 0 ? map[i]! / max : 0;
    data.set([
      Math.round(255 * Math.min(1, 3 * t)),
      Math.round(255 * Math.min(1, Math.max(0, 3 * t - 1))),
      Math.round(255 * Math.min(1, Math.max(0, 3 * t - 2))),
      255,
    ], i * 4);
  }
  return { width: size, height: size, data };
}

/** Nearest-neighbour enlargement, so 64-pixel panels stay sharp in the figure. */
export function enlarge(img: Rgba, factor: number): Rgba {
  const w = img.width * factor;
  const h = img.height * factor;
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (Math.floor(y / factor) * img.width + Math.floor(x / factor)) * 4;
      data.set(img.data.subarray(s, s + 4), (y * w + x) * 4);
    }
  }
  return { width: w, height: h, data };
}

export function encodePng(img: Rgba): Buffer {
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return PNG.sync.write(png);
}
