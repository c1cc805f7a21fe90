// Both networks as one differentiable function of the multi-band pixels, for attributions:
// [N,S,S,B] normalised pixels -> network 1 on each band (shared weights) -> feature maps
// concatenated band-major -> network 2 -> log10 M500. extract-features uses the same path, so the
// channel order network 2 was trained on is the one explain differentiates through.
import * as tf from '@tensorflow/tfjs';
import { bandNetFeatures } from './band-net.js';
import { massNetHead, massNetTrunk } from './mass-net.js';
import type { ParamStore } from './params.js';

/** [N,S,S,B] -> [N,S/8,S/8,B*F], channel index b*F + f. */
export function featuresFromPixels(bandNet: ParamStore, x: tf.Tensor4D): tf.Tensor4D {
  const [n, s, , b] = x.shape;
  // Bands become batch entries: [N,S,S,B] -> [B,N,S,S] -> [B*N,S,S,1].
  const perBand = tf.reshape(tf.transpose(x, [3, 0, 1, 2]), [b * n, s, s, 1]) as tf.Tensor4D;
  const f = bandNetFeatures(bandNet, perBand);
  const [, h, w, c] = f.shape;
  // [B*N,h,w,F] -> [B,N,h,w,F] -> [N,h,w,B,F] -> [N,h,w,B*F]
  const g = tf.transpose(tf.reshape(f, [b, n, h, w, c]), [1, 2, 3, 0, 4]);
  return tf.reshape(g, [n, h, w, b * c]) as tf.Tensor4D;
}

export function lastConvFromPixels(bandNet: ParamStore, massNet: ParamStore, x: tf.Tensor4D): tf.Tensor4D {
  return massNetTrunk(massNet, featuresFromPixels(bandNet, x));
}

export function predictFromPixels(bandNet: ParamStore, massNet: ParamStore, x: tf.Tensor4D): tf.Tensor1D {
  return massNetHead(massNet, lastConvFromPixels(bandNet, massNet, x));
}
