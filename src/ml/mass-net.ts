// Network 2: regresses log10 M500 from the concatenated, frozen per-band feature maps of network 1
// ([S/8, S/8, bands x F], band-major channels). It keeps the maps spatial rather than pooling them
// to vectors first: a cluster is a concentration of galaxies with the *same* colours at the *same*
// place, which only survives if the bands' features are combined position by position. This also
// gives network 2 a convolution of its own for Grad-CAM.
//
//   per-channel standardisation (training-set mean and std, fixed)
//   conv3x3(hidden) + ReLU, conv3x3(hidden) + ReLU   <- "last convolution" (Grad-CAM)
//   global average pool, dense(1)                     -> log10 M500
import * as tf from '@tensorflow/tfjs';
import { conv2dBias, relu } from './ops.js';
import { ParamStore } from './params.js';
import { Rng } from './rng.js';

export const MASS_NET_KIND = 'mass-regressor';

export interface MassNetConfig {
  /** Feature-map side (network 1's input size / 8). */
  side: number;
  /** bands x featureChannels. */
  channels: number;
  hidden: number;
  /** Initial output bias: the training set's mean log M, so training starts from the right level. */
  offset: number;
}

/**
 * `shift`/`scale` standardise each input channel (ReLU features have arbitrary scales per channel;
 * He initialisation assumes unit variance). They are part of the model, not trained.
 */
export function initMassNet(cfg: MassNetConfig, seed: number, shift: Float32Array, scale: Float32Array): ParamStore {
  if (shift.length !== cfg.channels || scale.length !== cfg.channels) {
    throw new Error(`standardisation has ${shift.length}/${scale.length} channels, the network ${cfg.channels}`);
  }
  const rng = new Rng(seed);
  const p = new ParamStore();
  p.fixed('norm/shift', shift, [cfg.channels]);
  p.fixed('norm/scale', scale, [cfg.channels]);
  p.he('conv1/w', [3, 3, cfg.channels, cfg.hidden], 9 * cfg.channels, rng);
  p.constant('conv1/b', [cfg.hidden], 0);
  p.he('conv2/w', [3, 3, cfg.hidden, cfg.hidden], 9 * cfg.hidden, rng);
  p.constant('conv2/b', [cfg.hidden], 0);
  // Small output weights: the first predictions sit at the offset, not scattered around it.
  p.he('out/w', [cfg.hidden, 1], cfg.hidden, rng, 0.1);
  p.constant('out/b', [1], cfg.offset);
  return p;
}

/** Feature maps [N,s,s,C] -> the last convolution's activations [N,s,s,hidden]. */
export function massNetTrunk(p: ParamStore, f: tf.Tensor4D): tf.Tensor4D {
  const z = tf.mul(tf.sub(f, p.get('norm/shift')), p.get('norm/scale')) as tf.Tensor4D;
  const c1 = relu(conv2dBias(z, p.get('conv1/w') as tf.Tensor4D, p.get('conv1/b')));
  return relu(conv2dBias(c1, p.get('conv2/w') as tf.Tensor4D, p.get('conv2/b')));
}

/** Last-convolution activations -> predicted log10 M500 [N]. */
export function massNetHead(p: ParamStore, a: tf.Tensor4D): tf.Tensor1D {
  const pooled = tf.mean(a, [1, 2]) as tf.Tensor2D;
  const y = tf.add(tf.matMul(pooled, p.get('out/w') as tf.Tensor2D), p.get('out/b'));
  return tf.reshape(y, [-1]) as tf.Tensor1D;
}

export function massNetPredict(p: ParamStore, f: tf.Tensor4D): tf.Tensor1D {
  return massNetHead(p, massNetTrunk(p, f));
}
