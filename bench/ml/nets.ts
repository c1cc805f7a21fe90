// The networks the training-speed benchmark times, written once in tfjs here and once in PyTorch
// (torch_speed.py) with the same layers, shapes, loss and optimizer:
//   band:      network 1 of the pipeline (src/ml/band-net.ts), one band in, 5 classes out;
//   reference: a plain 5-band CNN (conv32-pool-conv64-pool-conv128-GAP-dense5), the network of
//              earlier backend measurements, so figures can be set against those.
import * as tf from '@tensorflow/tfjs';
import { bandNetFeatures, bandNetLogits, initBandNet } from '../../src/ml/band-net.js';
import { conv2dBias, relu } from '../../src/ml/ops.js';
import { ParamStore } from '../../src/ml/params.js';
import { Rng } from '../../src/ml/rng.js';

export const NETS = ['band', 'reference'] as const;
export type NetName = (typeof NETS)[number];

export interface BenchNet {
  /** Input channels. */
  channels: number;
  params: ParamStore;
  logits(x: tf.Tensor4D): tf.Tensor2D;
}

export function buildNet(name: NetName, size: number): BenchNet {
  if (name === 'band') {
    const p = initBandNet({ size, bands: ['u', 'g', 'r', 'i', 'z'], width: 16, featureChannels: 16, normalisation: 'image' }, 1);
    return { channels: 1, params: p, logits: (x) => bandNetLogits(p, bandNetFeatures(p, x)) };
  }
  const rng = new Rng(1);
  const p = new ParamStore();
  const widths = [5, 32, 64, 128];
  for (let i = 1; i < widths.length; i++) {
    p.he(`c${i}/w`, [3, 3, widths[i - 1]!, widths[i]!], 9 * widths[i - 1]!, rng);
    p.constant(`c${i}/b`, [widths[i]!], 0);
  }
  p.he('d/w', [128, 5], 128, rng);
  p.constant('d/b', [5], 0);
  const conv = (i: number, x: tf.Tensor4D) =>
    relu(conv2dBias(x, p.get(`c${i}/w`) as tf.Tensor4D, p.get(`c${i}/b`)));
  return {
    channels: 5,
    params: p,
    logits: (x) => {
      let h = tf.maxPool(conv(1, x), 2, 2, 'valid');
      h = tf.maxPool(conv(2, h), 2, 2, 'valid');
      const g = tf.mean(conv(3, h), [1, 2]) as tf.Tensor2D;
      return tf.add(tf.matMul(g, p.get('d/w') as tf.Tensor2D), p.get('d/b'));
    },
  };
}
