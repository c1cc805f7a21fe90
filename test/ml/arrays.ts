// Array helpers for the backend tests: deterministic inputs (tf.random* with a seed differs between
// backends, so they cannot feed a cross-backend comparison) and the largest elementwise difference.
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';

/** Values in [-0.5, 0.5) from a linear congruential sequence: the same on every backend. */
export function pseudoRandom(shape: readonly number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

export const pseudoRandomTensor = (shape: number[], seed: number): tf.Tensor => tf.tensor(pseudoRandom(shape, seed), shape);

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
