// The eight symmetries of the square (4 rotations x optional flip), applied to an HWC image. A
// cluster seen rotated or mirrored has the same mass and its bands look the same, so these are
// label-preserving augmentations for both networks.

/** Returns a new size x size x channels array: transform k in 0..7 (k & 3 quarter turns, k & 4 flip). */
export function dihedral(src: Float32Array, size: number, channels: number, k: number): Float32Array {
  if (k === 0) return src.slice();
  const out = new Float32Array(src.length);
  const rot = k & 3;
  const flip = (k & 4) !== 0;
  const last = size - 1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const xf = flip ? last - x : x;
      let sy: number, sx: number;
      switch (rot) {
        case 0: sy = y; sx = xf; break;
        case 1: sy = last - xf; sx = y; break;
        case 2: sy = last - y; sx = last - xf; break;
        default: sy = xf; sx = last - y; break;
      }
      const d = (y * size + x) * channels;
      const s = (sy * size + sx) * channels;
      for (let c = 0; c < channels; c++) out[d + c] = src[s + c]!;
    }
  }
  return out;
}
