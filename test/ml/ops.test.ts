// The networks' layer ops (src/ml/ops.ts) and the flat Adam (src/ml/adam.ts) against tfjs's own
// ops and optimizer: same values and gradients on the cpu backend, and on the native TensorFlow
// backend (its ReluGrad/BiasAdd/BiasAddGrad kernels) when it is installed.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { FlatAdam } from '../../src/ml/adam.js';
import { BACKEND_ENV, describeBackend } from '../../src/ml/backend.js';
import { registerNativeKernels } from '../../src/ml/native-kernels.js';
import { shimLegacyUtil } from '../../src/ml/node-util-shim.js';
import { avgPool2, biasAdd, conv2dBias, relu } from '../../src/ml/ops.js';

// Deterministic values in [-0.5, 0.5) (seeded tf.random* differs between backends).
function fill(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return tf.tensor(out, shape);
}

/** A small conv block written with our ops and with tfjs's, plus its gradients w.r.t. all inputs. */
function block(useOurs: boolean): Float32Array[] {
  return tf.tidy(() => {
    const x = fill([2, 6, 6, 3], 1);
    const w = fill([3, 3, 3, 4], 2);
    const b = fill([4], 3);
    const up = fill([2, 3, 3, 4], 4);
    const f = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => {
      const h = useOurs
        ? avgPool2(relu(conv2dBias(xi as tf.Tensor4D, wi as tf.Tensor4D, bi)))
        : tf.avgPool(tf.relu(tf.add(tf.conv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, 1, 'same'), bi)) as tf.Tensor4D, 2, 2, 'valid');
      return tf.sum(tf.mul(h, up));
    };
    const { value, grads } = tf.valueAndGrads(f)([x, w, b]);
    return [value, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('layer ops on the cpu backend', () => {
  it('relu, biasAdd, conv2dBias and avgPool2 give tfjs\'s values and gradients', async () => {
    await tf.setBackend('cpu');
    const ours = block(true);
    const theirs = block(false);
    expect(ours[0]![0]).not.toBe(0);
    for (let i = 0; i < ours.length; i++) expect(maxAbsDiff(ours[i]!, theirs[i]!)).toBeLessThan(1e-6);
  });

  it('biasAdd broadcasts over a rank-2 input and sums its gradient over the batch', async () => {
    await tf.setBackend('cpu');
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const b = tf.tensor1d([10, 20]);
    expect(Array.from(biasAdd(x, b).dataSync())).toEqual([11, 22, 13, 24, 15, 26]);
    const [, db] = tf.grads((a: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(biasAdd(a, c), tf.tensor2d([[1, 2], [3, 4], [5, 6]]))))([x, b]);
    expect(Array.from(db!.dataSync())).toEqual([9, 12]);
  });

  it('avgPool2 refuses odd sides', async () => {
    await tf.setBackend('cpu');
    expect(() => avgPool2(tf.zeros([1, 5, 4, 1]) as tf.Tensor4D)).toThrow(/even spatial sides, got 5x4/);
  });
});

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

// The native library is installed by scripts/setup-native-tf.sh (CI runs it and sets
// MASSFLOW_REQUIRE_NATIVE=1 so this cannot be skipped there).
const native = describeBackend({ [BACKEND_ENV]: 'native' });
const requireNative = process.env.MASSFLOW_REQUIRE_NATIVE === '1';
describe.skipIf(!native.ok && !requireNative)(`layer ops on the native backend${native.ok ? '' : ' (skipped: native backend not installed here; run scripts/setup-native-tf.sh)'}`, () => {
  it('match the cpu backend through the TensorFlow ReluGrad, BiasAdd and BiasAddGrad kernels', async () => {
    if (!native.ok) throw new Error(`MASSFLOW_REQUIRE_NATIVE=1 but ${native.error}`);
    await tf.setBackend('cpu');
    const reference = block(true);
    shimLegacyUtil();
    await import('@tensorflow/tfjs-node');
    registerNativeKernels();
    await tf.setBackend('tensorflow');
    const profile = await tf.profile(() => { block(true); });
    const kernels = new Set(profile.kernels.map((k) => k.name));
    // The native path really ran: TensorFlow's fused gradient kernels, not tfjs's Step.
    expect(kernels).toContain('MassflowReluGrad');
    expect(kernels).toContain('MassflowBiasAddGrad');
    expect(kernels).not.toContain('Step');
    const got = block(true);
    for (let i = 0; i < got.length; i++) expect(maxAbsDiff(got[i]!, reference[i]!)).toBeLessThan(1e-5);
    await tf.setBackend('cpu');
  });
});
