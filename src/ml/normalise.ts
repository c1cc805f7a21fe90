// Per-band input normalisation for network 1. The band classifier must learn what a band *looks*
// like (which galaxies are bright, how they are shaped), not read the band off trivial statistics:
// the u band's sky level and noise differ from z's by construction. So each single-band image is
// centred and scaled before it reaches the network:
//   'image': by its own median and robust sigma (1.4826 x MAD), the default: removes sky level and
//            noise amplitude per image;
//   'none':  as make-cutouts wrote it (asinh-stretched, per-band normalised over the dataset), which
//            leaves those statistics in and lets the classifier cheat; kept for ablations.
// The same mode is applied in extract-features and explain (it is saved with network 1).
export const NORMALISATIONS = ['image', 'none'] as const;
export type Normalisation = (typeof NORMALISATIONS)[number];

/** Normalises one single-band image in place and returns it. */
export function normaliseImage(img: Float32Array, mode: Normalisation): Float32Array {
  if (mode === 'none') return img;
  const sorted = Float32Array.from(img).sort();
  const med = median(sorted);
  for (let i = 0; i < sorted.length; i++) sorted[i] = Math.abs(sorted[i]! - med);
  sorted.sort();
  const sigma = 1.4826 * median(sorted);
  // A blank or masked image has no spread: centre it and leave the scale alone.
  const scale = sigma > 1e-6 ? 1 / sigma : 1;
  for (let i = 0; i < img.length; i++) img[i] = (img[i]! - med) * scale;
  return img;
}

function median(sorted: Float32Array): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const h = n >> 1;
  return n % 2 ? sorted[h]! : 0.5 * (sorted[h - 1]! + sorted[h]!);
}
