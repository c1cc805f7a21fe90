// Per-band input normalisation for network 1. The band classifier must learn what a band *looks*
// like (which galaxies are bright, how they are shaped), not read the band off trivial statistics:
// the u band's sky level and noise differ from z's by construction. So each single-band image is
// centred and scaled before it reaches the network:
//   'band':  by its own median (sky level) and one scale per band fixed over the dataset (the
//            median robust sigma of that band's images, saved with network 1). The typical noise
//            of every band is brought to 1, so noise amplitude does not give the band away, while
//            fluxes stay comparable between clusters: a richer cluster stays brighter. The default.
//   'image': by its own median and robust sigma (1.4826 x MAD): removes sky level and noise
//            amplitude per image, but also each image's flux scale, which costs network 2 the
//            brightness that tells rich clusters from poor ones (measured in docs/ml.md);
//   'none':  as make-cutouts wrote it (asinh-stretched, per-band normalised over the dataset), which
//            leaves those statistics in and lets the classifier cheat; kept for ablations.
// The same mode (and scales) is applied in extract-features and explain (it is saved with network 1).
export const NORMALISATIONS = ['band', 'image', 'none'] as const;
export type Normalisation = (typeof NORMALISATIONS)[number];

/** What normalising a band needs: the mode and, for 'band', the dataset scale of each band. */
export interface NormalisationConfig {
  readonly normalisation: Normalisation;
  /** Robust sigma of each band over the dataset, in dataset band order ('band' mode only). */
  readonly bandScales?: readonly number[];
}

/** Normalises one single-band image (dataset band index `band`) in place and returns it. */
export function normaliseBand(img: Float32Array, cfg: NormalisationConfig, band: number): Float32Array {
  switch (cfg.normalisation) {
    case 'none':
      return img;
    case 'image':
      return normaliseImage(img, 'image');
    case 'band': {
      const scale = cfg.bandScales?.[band];
      if (scale === undefined) throw new Error(`band normalisation has no scale for band ${band}; network 1 was saved without bandScales`);
      return centreAndScale(img, median(Float32Array.from(img).sort()), scale > 1e-6 ? 1 / scale : 1);
    }
  }
}

/** Normalises one single-band image in place by its own statistics ('image') or not at all ('none'). */
export function normaliseImage(img: Float32Array, mode: 'image' | 'none'): Float32Array {
  if (mode === 'none') return img;
  const { med, sigma } = robustStats(img);
  // A blank or masked image has no spread: centre it and leave the scale alone.
  return centreAndScale(img, med, sigma > 1e-6 ? 1 / sigma : 1);
}

/** Median and robust sigma (1.4826 x median absolute deviation) of an image. */
export function robustStats(img: Float32Array): { med: number; sigma: number } {
  const sorted = Float32Array.from(img).sort();
  const med = median(sorted);
  for (let i = 0; i < sorted.length; i++) sorted[i] = Math.abs(sorted[i]! - med);
  sorted.sort();
  return { med, sigma: 1.4826 * median(sorted) };
}

/**
 * The 'band' scales: per band, the median over the given images of their robust sigma. Blank
 * images (no spread) are left out; a band with no other image gets scale 1.
 */
export function bandScales(readBand: (i: number, b: number) => Float32Array, images: readonly number[], bands: number): number[] {
  return Array.from({ length: bands }, (_, b) => {
    const sigmas = images.map((i) => robustStats(readBand(i, b)).sigma).filter((s) => s > 1e-6);
    if (sigmas.length === 0) return 1;
    return median(Float32Array.from(sigmas).sort());
  });
}

function centreAndScale(img: Float32Array, med: number, scale: number): Float32Array {
  for (let i = 0; i < img.length; i++) img[i] = (img[i]! - med) * scale;
  return img;
}

function median(sorted: Float32Array): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const h = n >> 1;
  return n % 2 ? sorted[h]! : 0.5 * (sorted[h - 1]! + sorted[h]!);
}
