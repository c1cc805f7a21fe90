// Network 1: a small residual CNN that tells which band (u, g, r, i, z) a single-band cutout is.
// Self-supervised: every cluster gives one example per band, labelled or not. Its last convolution
// (at 1/8 of the input size) is the feature map network 2 reads, frozen, once per band.
//
//   S x S x 1  --conv3x3(w)-->  S      (stem)
//   avgpool2, conv3x3(2w)      S/2,  residual block (two conv3x3, identity shortcut)
//   avgpool2, conv3x3(4w)      S/4,  residual block
//   avgpool2, conv3x3(F)       S/8   <- features (ReLU), the "last convolution" of network 1
//   global average pool, dense(bands) -> logits
//
// Downsampling is average pooling then a stride-1 convolution, not a strided convolution: on the
// wasm backend only stride-1 convolutions have a fast input gradient, and this costs the same.
// No batch normalisation: inference on one image must not depend on the batch it came in, and the
// residual branches start near zero (gain 0.1) instead, which keeps the untrained net stable.
import * as tf from '@tensorflow/tfjs';
import type { Normalisation } from './normalise.js';
import { avgPool2, conv2dBias, relu } from './ops.js';
import { ParamStore } from './params.js';
import { err, ok, type Result } from '../core/result.js';
import { Rng } from './rng.js';

export const BAND_NET_KIND = 'band-classifier';

export interface BandNetConfig {
  /** Input side in pixels; a multiple of 8. */
  size: number;
  /** Band names in dataset order; the classifier's classes. */
  bands: string[];
  /** Channels of the stem; the two later stages have 2x and 4x. */
  width: number;
  /** Channels of the feature map handed to network 2. */
  featureChannels: number;
  normalisation: Normalisation;
  /** Per-band scales for 'band' normalisation (see normalise.ts), in band order; fixed at pre-training. */
  bandScales?: number[];
}

export function checkBandNetConfig(c: BandNetConfig): Result<BandNetConfig> {
  if (!Number.isInteger(c.size) || c.size < 8 || c.size % 8 !== 0) {
    return err(`cutout size must be a multiple of 8 (the network halves it three times), got ${c.size}`);
  }
  if (c.bands.length < 2) return err(`band classification needs at least two bands, got ${c.bands.length}`);
  if (c.width < 1 || c.featureChannels < 1) return err('width and featureChannels must be positive');
  if (c.normalisation === 'band' && c.bandScales?.length !== c.bands.length) {
    return err(`band normalisation needs one scale per band (${c.bands.length}), got ${c.bandScales?.length ?? 'none'}`);
  }
  return ok(c);
}

/** Side of the feature map for an input of side `size`. */
export const featureSide = (size: number): number => size / 8;

export function initBandNet(cfg: BandNetConfig, seed: number): ParamStore {
  const rng = new Rng(seed);
  const p = new ParamStore();
  const w = cfg.width;
  const conv = (name: string, cin: number, cout: number, gain = 1) => {
    p.he(`${name}/w`, [3, 3, cin, cout], 9 * cin, rng, gain);
    p.constant(`${name}/b`, [cout], 0);
  };
  conv('stem', 1, w);
  conv('down1', w, 2 * w);
  conv('res1a', 2 * w, 2 * w);
  conv('res1b', 2 * w, 2 * w, 0.1);
  conv('down2', 2 * w, 4 * w);
  conv('res2a', 4 * w, 4 * w);
  conv('res2b', 4 * w, 4 * w, 0.1);
  conv('feat', 4 * w, cfg.featureChannels);
  // Glorot-like scale for the linear classifier.
  p.he('head/w', [cfg.featureChannels, cfg.bands.length], 2 * cfg.featureChannels, rng);
  p.constant('head/b', [cfg.bands.length], 0);
  return p;
}

function conv(p: ParamStore, name: string, x: tf.Tensor4D): tf.Tensor4D {
  return conv2dBias(x, p.get(`${name}/w`) as tf.Tensor4D, p.get(`${name}/b`));
}

function residual(p: ParamStore, name: string, x: tf.Tensor4D): tf.Tensor4D {
  const h = relu(conv(p, `${name}a`, x));
  return relu(tf.add(x, conv(p, `${name}b`, h)) as tf.Tensor4D);
}

function down(p: ParamStore, name: string, x: tf.Tensor4D): tf.Tensor4D {
  return relu(conv(p, name, avgPool2(x)));
}

/** [N,S,S,1] normalised single-band images -> [N,S/8,S/8,F] feature maps. */
export function bandNetFeatures(p: ParamStore, x: tf.Tensor4D): tf.Tensor4D {
  let h = relu(conv(p, 'stem', x));
  h = down(p, 'down1', h);
  h = residual(p, 'res1', h);
  h = down(p, 'down2', h);
  h = residual(p, 'res2', h);
  return down(p, 'feat', h);
}

/** Feature maps -> band logits [N, bands]. */
export function bandNetLogits(p: ParamStore, features: tf.Tensor4D): tf.Tensor2D {
  const pooled = tf.mean(features, [1, 2]) as tf.Tensor2D;
  return tf.add(tf.matMul(pooled, p.get('head/w') as tf.Tensor2D), p.get('head/b'));
}
