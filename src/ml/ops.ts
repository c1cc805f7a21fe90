// The few layer ops the networks are built from, with gradients that run as single TensorFlow ops
// on the native backend (./native-kernels.ts) and as the usual tfjs composition elsewhere. The
// results are the same on every backend up to float summation order; test/ml/ops.test.ts checks them
// against tfjs's own ops.
import * as tf from '@tensorflow/tfjs';
import { BIAS_ADD, BIAS_ADD_GRAD, RELU_GRAD } from './native-kernels.js';

const native = (): boolean => tf.getBackend() === 'tensorflow';

/** max(x, 0); its gradient passes dy where the output is positive. */
export const relu = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const y = tf.relu(x);
  save([y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const out = saved[0]!;
      return native() ? tf.engine().runKernel(RELU_GRAD, { dy, y: out }) as tf.Tensor : tf.mul(dy, tf.step(out));
    },
  };
}) as never) as <T extends tf.Tensor>(x: T) => T;

/** x + bias over the last axis; the bias gradient sums dy over every other axis. */
export const biasAdd = tf.customGrad(((x: tf.Tensor, bias: tf.Tensor) => ({
  value: native() ? tf.engine().runKernel(BIAS_ADD, { x, bias }) as tf.Tensor : tf.add(x, bias),
  gradFunc: (dy: tf.Tensor) => [
    dy,
    native()
      ? tf.engine().runKernel(BIAS_ADD_GRAD, { dy }) as tf.Tensor
      : tf.sum(dy, Array.from({ length: dy.rank - 1 }, (_, i) => i)),
  ],
})) as never) as <T extends tf.Tensor>(x: T, bias: tf.Tensor) => T;

/** 3x3-style 'same' convolution, stride 1, plus a bias per output channel. */
export function conv2dBias(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor): tf.Tensor4D {
  return biasAdd(tf.conv2d(x, w, 1, 'same'), b);
}

/**
 * 2x2 average pooling, stride 2. Its gradient spreads dy/4 over each window with one broadcast;
 * TensorFlow's AvgPoolGrad took 2.3x as long on network 1's largest activations.
 */
export const avgPool2 = tf.customGrad(((x: tf.Tensor4D) => {
  const [n, h, w, c] = x.shape;
  if (h % 2 !== 0 || w % 2 !== 0) throw new Error(`avgPool2 needs even spatial sides, got ${h}x${w}`);
  return {
    value: tf.avgPool(x, 2, 2, 'valid'),
    gradFunc: (dy: tf.Tensor4D) => {
      const spread = tf.broadcastTo(tf.reshape(tf.mul(dy, 0.25), [n, h / 2, 1, w / 2, 1, c]), [n, h / 2, 2, w / 2, 2, c]);
      return tf.reshape(spread, [n, h, w, c]);
    },
  };
}) as never) as (x: tf.Tensor4D) => tf.Tensor4D;
