// The networks' layer ops (src/ml/ops.ts) against tfjs's own ops: same values and gradients on the
// cpu backend, and on the native TensorFlow backend (its ReluGrad/BiasAdd/BiasAddGrad kernels) when
// it is installed.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BACKEND_ENV, describeBackend } from '../../src/ml/backend.js';
import { registerNativeKernels } from '../../src/ml/native-kernels.js';
import { shimLegacyUtil } from '../../src/ml/node-util-shim.js';
import { avgPool2, biasAdd, conv2dBias, relu } from '../../src/ml/ops.js';
import { maxAbsDiff, pseudoRandomTensor as fill } from './arrays.js';

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

// The native library is installed by `npm run setup` (CI runs it and sets
// MASSFLOW_REQUIRE_NATIVE=1 so this cannot be skipped there).
const native = describeBackend({ [BACKEND_ENV]: 'native' });
const requireNative = process.env.MASSFLOW_REQUIRE_NATIVE === '1';
describe.skipIf(!native.ok && !requireNative)(`layer ops on the native backend${native.ok ? '' : ' (skipped: native backend not installed here; run npm run setup)'}`, () => {
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
