// Network 1, frozen, over the chosen bands of the labelled clusters: the features network 2 learns from.
import * as tf from '@tensorflow/tfjs';
import { featureSide, type BandNetConfig } from './band-net.js';
import { featuresFromPixels } from './composite.js';
import type { CutoutDataset } from './cutouts.js';
import { checkAborted, yieldToEventLoop } from './loop.js';
import { normaliseBand } from './normalise.js';
import type { ParamStore } from './params.js';

export const allBands = (ds: CutoutDataset): number[] => ds.bands.map((_, b) => b);

/**
 * Cutout i as network 1 sees it: H x W x bands.length, each band normalised on its own; `bands`
 * are positions in ds.bands, channel k holds band bands[k].
 */
export function normalisedPixels(ds: CutoutDataset, i: number, cfg: BandNetConfig, bands: readonly number[] = allBands(ds)): Float32Array {
  const nb = bands.length;
  const px = ds.size * ds.size;
  const out = new Float32Array(px * nb);
  bands.forEach((band, k) => {
    const img = normaliseBand(ds.readBand(i, band), cfg, band);
    for (let p = 0; p < px; p++) out[p * nb + k] = img[p]!;
  });
  return out;
}

export interface ExtractOptions {
  /** Positions in ds.bands to compute features for (all by default). */
  bands?: readonly number[];
  onProgress?(done: number, total: number): void;
  signal?: AbortSignal;
}

/** Feature maps of the given clusters: idx.length x side x side x (bands x F), band-major channels. */
export async function extractFeatureMaps(
  ds: CutoutDataset, bandNet: ParamStore, cfg: BandNetConfig, idx: readonly number[], batch: number, opts: ExtractOptions = {},
): Promise<Float32Array> {
  const s = ds.size;
  const bands = opts.bands ?? allBands(ds);
  const nb = bands.length;
  const side = featureSide(s);
  const per = side * side * nb * cfg.featureChannels;
  const out = new Float32Array(idx.length * per);
  for (let o = 0; o < idx.length; o += batch) {
    checkAborted(opts.signal);
    const chunk = idx.slice(o, o + batch);
    const xs = new Float32Array(chunk.length * s * s * nb);
    chunk.forEach((i, k) => xs.set(normalisedPixels(ds, i, cfg, bands), k * s * s * nb));
    const x = tf.tensor4d(xs, [chunk.length, s, s, nb]);
    const f = tf.tidy(() => featuresFromPixels(bandNet, x));
    out.set(await f.data(), o * per);
    tf.dispose([x, f]);
    opts.onProgress?.(Math.min(o + batch, idx.length), idx.length);
    await yieldToEventLoop();
  }
  return out;
}
