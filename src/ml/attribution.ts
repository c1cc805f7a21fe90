// Attributions for the mass prediction of one cluster.
//
// Integrated gradients (Sundararajan et al. 2017): IG_i = (x_i - x'_i) * integral over a in [0,1] of
// dF(x' + a (x - x'))/dx_i, here through both networks back to the normalised input pixels, with
// the midpoint rule on `steps` points. Completeness: sum_i IG_i = F(x) - F(x') up to the quadrature
// error, which shrinks as steps grow (ReLU networks are piecewise linear, so a few dozen steps give
// a few per cent); the error is returned so callers can report it.
//
// Grad-CAM (Selvaraju et al. 2017) on network 2's last convolution A (side S/8, K channels):
// weights alpha_k = spatial mean of dF/dA_k, map = ReLU(sum_k alpha_k A_k). For a regression the
// output F is the predicted log M itself.
import * as tf from '@tensorflow/tfjs';
import { checkAborted, yieldToEventLoop } from './loop.js';

export interface IgResult {
  /** Same layout as the input (H x W x C). */
  attributions: Float32Array;
  fx: number;
  fBaseline: number;
  /** Sum of the attributions. */
  sum: number;
  /** |sum - (fx - fBaseline)| */
  completenessError: number;
}

export interface IgOptions {
  steps: number;
  /** Interpolated images per gradient call. */
  batch: number;
  /** Defaults to all zeros (in normalised units: each band's median level). */
  baseline?: Float32Array;
  signal?: AbortSignal;
}

type Model = (x: tf.Tensor4D) => tf.Tensor1D;

async function scalarOf(f: Model, x: Float32Array, shape: [number, number, number]): Promise<number> {
  const y = tf.tidy(() => f(tf.tensor4d(x, [1, ...shape])));
  const v = (await y.data())[0]!;
  y.dispose();
  return v;
}

export async function integratedGradients(
  f: Model, x: Float32Array, shape: [number, number, number], opts: IgOptions,
): Promise<IgResult> {
  const n = x.length;
  if (n !== shape[0] * shape[1] * shape[2]) throw new Error(`input has ${n} values, shape ${shape.join('x')} needs ${shape[0] * shape[1] * shape[2]}`);
  if (!(opts.steps >= 1)) throw new Error(`integrated gradients need at least one step, got ${opts.steps}`);
  const base = opts.baseline ?? new Float32Array(n);
  if (base.length !== n) throw new Error('baseline and input differ in size');
  const diff = new Float32Array(n);
  for (let i = 0; i < n; i++) diff[i] = x[i]! - base[i]!;
  const gradSum = new Float64Array(n);
  // Summing F over the batch gives each image's own gradient: the images do not interact.
  const gradOf = tf.grad((xs: tf.Tensor) => tf.sum(f(xs as tf.Tensor4D)));
  for (let s0 = 0; s0 < opts.steps; s0 += opts.batch) {
    checkAborted(opts.signal);
    const m = Math.min(opts.batch, opts.steps - s0);
    const xs = new Float32Array(m * n);
    for (let k = 0; k < m; k++) {
      const a = (s0 + k + 0.5) / opts.steps;
      for (let i = 0; i < n; i++) xs[k * n + i] = base[i]! + a * diff[i]!;
    }
    const g = tf.tidy(() => gradOf(tf.tensor4d(xs, [m, ...shape])));
    const gd = await g.data();
    g.dispose();
    for (let k = 0; k < m; k++) for (let i = 0; i < n; i++) gradSum[i]! += gd[k * n + i]!;
    await yieldToEventLoop();
  }
  const attributions = new Float32Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    attributions[i] = (diff[i]! * gradSum[i]!) / opts.steps;
    sum += attributions[i]!;
  }
  const fx = await scalarOf(f, x, shape);
  const fBaseline = await scalarOf(f, base, shape);
  return { attributions, fx, fBaseline, sum, completenessError: Math.abs(sum - (fx - fBaseline)) };
}

export interface CamResult {
  /** side x side, non-negative. */
  map: Float32Array;
  side: number;
}

/**
 * Grad-CAM of the activation `trunk(x)` for the scalar output `head(trunk(x))`, x a single image.
 */
export async function gradCam(
  trunk: (x: tf.Tensor4D) => tf.Tensor4D, head: (a: tf.Tensor4D) => tf.Tensor1D, x: tf.Tensor4D,
): Promise<CamResult> {
  if (x.shape[0] !== 1) throw new Error('Grad-CAM takes one image at a time');
  const cam = tf.tidy(() => {
    const a = trunk(x);
    const da = tf.grad((t: tf.Tensor) => tf.sum(head(t as tf.Tensor4D)))(a);
    const alpha = tf.mean(da, [1, 2], true);
    return tf.relu(tf.sum(tf.mul(a, alpha), -1)).reshape([a.shape[1], a.shape[2]]);
  });
  const side = cam.shape[0]!;
  const map = (await cam.data()) as Float32Array;
  cam.dispose();
  return { map, side };
}

/** Bilinear upsampling of a side x side map to size x size (pixel centres aligned). */
export function upsample(map: Float32Array, side: number, size: number): Float32Array {
  const out = new Float32Array(size * size);
  const scale = side / size;
  for (let y = 0; y < size; y++) {
    const fy = Math.min(Math.max((y + 0.5) * scale - 0.5, 0), side - 1);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, side - 1), wy = fy - y0;
    for (let x = 0; x < size; x++) {
      const fx = Math.min(Math.max((x + 0.5) * scale - 0.5, 0), side - 1);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, side - 1), wx = fx - x0;
      const top = map[y0 * side + x0]! * (1 - wx) + map[y0 * side + x1]! * wx;
      const bot = map[y1 * side + x0]! * (1 - wx) + map[y1 * side + x1]! * wx;
      out[y * size + x] = top * (1 - wy) + bot * wy;
    }
  }
  return out;
}
