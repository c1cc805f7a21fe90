// FlatAdam (src/ml/adam.ts) against tf.train.adam on the cpu backend.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { FlatAdam } from '../../src/ml/adam.js';
import { conv2dBias, relu } from '../../src/ml/ops.js';
import { maxAbsDiff, pseudoRandomTensor as fill } from './arrays.js';

describe('FlatAdam', () => {
  it('follows tf.train.adam step by step', async () => {
    await tf.setBackend('cpu');
    const run = (flat: boolean) => tf.tidy(() => {
      const w = tf.variable(fill([3, 3, 2, 4], 5), true, flat ? 'flat-w' : 'tf-w');
      const b = tf.variable(fill([4], 6), true, flat ? 'flat-b' : 'tf-b');
      const x = fill([2, 5, 5, 2], 7);
      const target = fill([2, 5, 5, 4], 8);
      const loss = () => tf.mean(tf.abs(tf.sub(relu(conv2dBias(x as tf.Tensor4D, w as unknown as tf.Tensor4D, b)), target))) as tf.Scalar;
      const losses: number[] = [];
      if (flat) {
        const opt = new FlatAdam([w, b], 0.01);
        for (let i = 0; i < 6; i++) losses.push(opt.minimize(loss).dataSync()[0]!);
        opt.dispose();
      } else {
        const opt = tf.train.adam(0.01);
        for (let i = 0; i < 6; i++) losses.push(opt.minimize(loss, true, [w, b])!.dataSync()[0]!);
        opt.dispose();
      }
      const out = { losses, w: w.dataSync() as Float32Array, b: b.dataSync() as Float32Array };
      tf.dispose([w, b]);
      return out;
    });
    const a = run(true);
    const t = run(false);
    expect(a.losses[5]).toBeLessThan(a.losses[0]!);
    for (let i = 0; i < 6; i++) expect(a.losses[i]).toBeCloseTo(t.losses[i]!, 6);
    expect(maxAbsDiff(a.w, t.w)).toBeLessThan(1e-6);
    expect(maxAbsDiff(a.b, t.b)).toBeLessThan(1e-6);
  });

  it('refuses an empty variable list', () => {
    expect(() => new FlatAdam([], 0.01)).toThrow(/no variables/);
  });
});
