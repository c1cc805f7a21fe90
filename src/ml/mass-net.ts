// Network 2: regresses log10 M500 from the concatenated, frozen per-band feature maps of network 1
// ([S/8, S/8, bands x F], band-major channels). It keeps the maps spatial rather than pooling them
// to vectors first: a cluster is a concentration of galaxies with the *same* colours at the *same*
// place, which only survives if the bands' features are combined position by position. This also
// gives network 2 a convolution of its own for Grad-CAM.
//
//   per-channel standardisation (training-set mean and std, fixed)
//   conv3x3(hidden) + ReLU, conv3x3(hidden) + ReLU   <- "last convolution" (Grad-CAM)
//   global average pool, dense(1)                     -> log10 M500
// The hybrid variant (`richnessInput`) appends the standardised log10 richness to the pooled vector
// before the dense layer: image features plus the catalogue's count, one linear read-out of both.
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { conv2dBias, relu } from './ops.js';
import { ParamStore } from './params.js';
import { Rng } from './rng.js';

export const MASS_NET_KIND = 'mass-regressor';
/** The same network trained on every cluster's log10 richness (the count-aware pretext task). */
export const RICHNESS_PRETEXT_KIND = 'richness-pretext';


export interface MassNetConfig {
  /** Feature-map side (network 1's input size / 8). */
  side: number;
  /** bands x featureChannels. */
  channels: number;
  hidden: number;
  /** Initial output bias: the training set's mean log M, so training starts from the right level. */
  offset: number;
  /** Hybrid: log10 richness is a second input of the dense layer. */
  richnessInput?: boolean;
}

/** The hybrid's richness input: its standardisation and the initial read-out (a richness baseline fit). */
export interface RichnessInputInit {
  shift: number;
  scale: number;
  /** Initial dense weight of the standardised log richness; the offset holds the matching intercept. */
  weight: number;
}

/** sha256 of a network's trunk (standardisation and both convolutions): which weights it starts from. */
export type TrunkDigest = string & { readonly __brand: 'TrunkDigest' };

export const TRUNK_TENSORS = ['norm/shift', 'norm/scale', 'conv1/w', 'conv1/b', 'conv2/w', 'conv2/b'] as const;

export async function trunkDigest(p: ParamStore): Promise<TrunkDigest> {
  const h = createHash('sha256');
  for (const name of TRUNK_TENSORS) {
    const d = (await p.get(name).data()) as Float32Array;
    h.update(name).update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return `sha256:${h.digest('hex')}` as TrunkDigest;
}

/**
 * `shift`/`scale` standardise each input channel (ReLU features have arbitrary scales per channel;
 * He initialisation assumes unit variance). They are part of the model, not trained.
 */
export function initMassNet(cfg: MassNetConfig, seed: number, shift: Float32Array, scale: Float32Array, richness?: RichnessInputInit): ParamStore {
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
  const w = p.he('out/w', [cfg.hidden + (cfg.richnessInput ? 1 : 0), 1], cfg.hidden, rng, 0.1);
  p.constant('out/b', [1], cfg.offset);
  if (cfg.richnessInput) {
    if (!richness) throw new Error('the hybrid network needs the richness input\'s standardisation');
    p.fixed('richness/shift', Float32Array.of(richness.shift), [1]);
    p.fixed('richness/scale', Float32Array.of(richness.scale), [1]);
    const data = w.dataSync().slice();
    data[cfg.hidden] = richness.weight;
    w.assign(tf.tensor(data, w.shape));
  }
  return p;
}

/** Feature maps [N,s,s,C] -> the last convolution's activations [N,s,s,hidden]. */
export function massNetTrunk(p: ParamStore, f: tf.Tensor4D): tf.Tensor4D {
  const z = tf.mul(tf.sub(f, p.get('norm/shift')), p.get('norm/scale')) as tf.Tensor4D;
  const c1 = relu(conv2dBias(z, p.get('conv1/w') as tf.Tensor4D, p.get('conv1/b')));
  return relu(conv2dBias(c1, p.get('conv2/w') as tf.Tensor4D, p.get('conv2/b')));
}

/**
 * Last-convolution activations -> predicted log10 M500 [N]. `logRichness` [N] is the hybrid's second
 * input (required by a hybrid network, refused by the others).
 */
export function massNetHead(p: ParamStore, a: tf.Tensor4D, logRichness?: tf.Tensor1D): tf.Tensor1D {
  let pooled = tf.mean(a, [1, 2]) as tf.Tensor2D;
  const hybrid = p.has('richness/shift');
  if (hybrid !== (logRichness !== undefined)) {
    throw new Error(hybrid ? 'this network (hybrid) needs the log richness as a second input' : 'this network takes no richness input');
  }
  if (logRichness) {
    const r = tf.mul(tf.sub(logRichness, p.get('richness/shift')), p.get('richness/scale'));
    pooled = tf.concat([pooled, tf.reshape(r, [-1, 1])], 1);
  }
  const y = tf.add(tf.matMul(pooled, p.get('out/w') as tf.Tensor2D), p.get('out/b'));
  return tf.reshape(y, [-1]) as tf.Tensor1D;
}

export function massNetPredict(p: ParamStore, f: tf.Tensor4D, logRichness?: tf.Tensor1D): tf.Tensor1D {
  return massNetHead(p, massNetTrunk(p, f), logRichness);
}
