// The two wasm training kernels against the pure-JS cpu backend: same gradients of a conv2d loss
// with respect to the filter (Conv2DBackpropFilter) and to the input (Conv2DBackpropInput).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from '../../src/ml/wasm-kernels.js';
import { maxAbsDiff, pseudoRandom } from './arrays.js';

interface Case {
  name: string;
  x: [number, number, number, number];
  k: [number, number, number, number];
  stride: number;
  pad: 'same' | 'valid';
}

const cases: Case[] = [
  { name: '3x3 same stride 1', x: [3, 9, 9, 2], k: [3, 3, 2, 4], stride: 1, pad: 'same' },
  { name: '3x3 valid stride 1', x: [2, 8, 7, 3], k: [3, 3, 3, 2], stride: 1, pad: 'valid' },
  { name: '3x3 same stride 2 (odd size)', x: [2, 9, 9, 2], k: [3, 3, 2, 3], stride: 2, pad: 'same' },
  { name: '3x3 valid stride 2 with a remainder', x: [2, 10, 10, 1], k: [3, 3, 1, 2], stride: 2, pad: 'valid' },
  { name: '1x1', x: [4, 5, 5, 3], k: [1, 1, 3, 5], stride: 1, pad: 'same' },
  { name: '5x4 same, one input channel', x: [2, 8, 8, 1], k: [5, 4, 1, 3], stride: 1, pad: 'same' },
];

async function grads(backend: string, c: Case): Promise<{ dx: Float32Array; dw: Float32Array; y: Float32Array }> {
  await tf.setBackend(backend);
  const x = tf.tensor4d(pseudoRandom(c.x, 1), c.x);
  const w = tf.tensor4d(pseudoRandom(c.k, 2), c.k);
  const y = tf.conv2d(x, w, c.stride, c.pad);
  // A weighted sum so every output position has its own upstream gradient.
  const weights = tf.tensor(pseudoRandom(y.shape, 3), y.shape);
  const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), weights)));
  const [dx, dw] = g([x, w]);
  const out = {
    dx: (await dx!.data()) as Float32Array,
    dw: (await dw!.data()) as Float32Array,
    y: (await y.data()) as Float32Array,
  };
  tf.dispose([x, w, y, weights, dx!, dw!]);
  return out;
}

describe('wasm training kernels', () => {
  beforeAll(async () => {
    registerWasmTrainingKernels();
    await tf.setBackend('wasm');
    await tf.ready();
  });

  it('registers Conv2DBackpropFilter, which wasm does not ship', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  for (const c of cases) {
    it(`match the cpu backend: ${c.name}`, async () => {
      const ref = await grads('cpu', c);
      const got = await grads('wasm', c);
      expect(maxAbsDiff(got.y, ref.y)).toBeLessThan(1e-5);
      expect(maxAbsDiff(got.dw, ref.dw)).toBeLessThan(1e-5);
      expect(maxAbsDiff(got.dx, ref.dx)).toBeLessThan(1e-5);
      // Not vacuous: the gradients are not all zero.
      expect(Math.max(...Array.from(ref.dw, Math.abs))).toBeGreaterThan(1e-3);
    });
  }

  it('does not leak tensors in the backend', async () => {
    await tf.setBackend('wasm');
    const c = cases[0]!;
    await grads('wasm', c);
    // Backend-level buffers: the kernels' temporaries never become engine tensors.
    const before = tf.engine().backend.numDataIds();
    await grads('wasm', c);
    expect(tf.engine().backend.numDataIds()).toBe(before);
  });
});
