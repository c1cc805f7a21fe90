// Integrated gradients and Grad-CAM: exact on a linear model, complete on the composed networks
// (attributions sum to F(x) - F(baseline) within 2% at 256 steps, and the error shrinks with more
// steps), and Grad-CAM equal to its definition for network 2's linear head.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBackend } from '../../src/ml/backend.js';
import { gradCam, integratedGradients, upsample } from '../../src/ml/attribution.js';
import { initBandNet } from '../../src/ml/band-net.js';
import { lastConvFromPixels, predictFromPixels } from '../../src/ml/composite.js';
import { initMassNet, massNetHead } from '../../src/ml/mass-net.js';
import type { ParamStore } from '../../src/ml/params.js';
import { Rng } from '../../src/ml/rng.js';

const SIZE = 16;
const NB = 5;
const F = 4;
let band: ParamStore;
let mass: ParamStore;
let x: Float32Array;

describe('attributions', () => {
  beforeAll(async () => {
    await loadBackend();
    band = initBandNet({ size: SIZE, bands: ['u', 'g', 'r', 'i', 'z'], width: 4, featureChannels: F, normalisation: 'image' }, 1);
    mass = initMassNet({ side: SIZE / 8, channels: NB * F, hidden: 8, offset: 14.5 }, 2,
      new Float32Array(NB * F), new Float32Array(NB * F).fill(1));
    // Non-zero biases and output weights: with zero biases a ReLU network is linear along the
    // straight path from a zero baseline, and any quadrature would be exact.
    const rng = new Rng(3);
    for (const store of [band, mass]) {
      for (const v of store.list()) {
        if (v.shape.length === 1 && v.size > 1) v.assign(tf.tensor1d(Array.from({ length: v.size }, () => 0.3 * rng.normal())));
      }
    }
    mass.get('out/w').assign(tf.tensor2d(Array.from({ length: 8 }, () => rng.normal()), [8, 1]));
    x = new Float32Array(SIZE * SIZE * NB).map(() => rng.normal());
  });

  it('are exact for a linear model: IG_i = w_i x_i', async () => {
    const w = new Float32Array(2 * 3 * 2).map((_, i) => (i % 5) - 2);
    const wt = tf.tensor4d(w, [1, 2, 3, 2]);
    const xin = new Float32Array(12).map((_, i) => i / 3 - 1);
    const r = await integratedGradients((t) => tf.sum(tf.mul(t, wt), [1, 2, 3]) as tf.Tensor1D, xin, [2, 3, 2], { steps: 3, batch: 2 });
    wt.dispose();
    for (let i = 0; i < 12; i++) expect(r.attributions[i]).toBeCloseTo(w[i]! * xin[i]!, 5);
    expect(r.completenessError).toBeLessThan(1e-5);
  });

  it('integrated gradients through both networks are complete within 2% at 256 steps', async () => {
    const f = (t: tf.Tensor4D) => predictFromPixels(band, mass, t);
    const coarse = await integratedGradients(f, x, [SIZE, SIZE, NB], { steps: 16, batch: 32 });
    const fine = await integratedGradients(f, x, [SIZE, SIZE, NB], { steps: 256, batch: 64 });
    const delta = fine.fx - fine.fBaseline;
    // Not vacuous: the prediction moves well above float32 resolution at log M ~ 14.5 (~1e-6).
    expect(Math.abs(delta)).toBeGreaterThan(1e-3);
    expect(fine.completenessError).toBeLessThan(0.02 * Math.abs(delta));
    expect(fine.completenessError).toBeLessThan(coarse.completenessError);
    expect(fine.attributions.some((a) => a !== 0)).toBe(true);
  });

  it('Grad-CAM of network 2 equals ReLU(sum_k alpha_k A_k) with alpha the mean gradient', async () => {
    const xt = tf.tensor4d(x, [1, SIZE, SIZE, NB]);
    const cam = await gradCam((t) => lastConvFromPixels(band, mass, t), (a) => massNetHead(mass, a), xt);
    // The head is a spatial mean then a dense layer: dF/dA_k(p) = w_k / (side^2) at every p.
    const a = lastConvFromPixels(band, mass, xt);
    const side = SIZE / 8;
    const w = mass.get('out/w').reshape([1, 1, 1, -1]);
    const expected = await tf.relu(tf.sum(tf.mul(a, tf.div(w, side * side)), -1)).data();
    xt.dispose();
    expect(cam.side).toBe(side);
    for (let i = 0; i < expected.length; i++) expect(cam.map[i]).toBeCloseTo(expected[i]!, 5);
    const up = upsample(cam.map, cam.side, SIZE);
    expect(up.length).toBe(SIZE * SIZE);
    // Upsampling keeps the range of the map.
    expect(Math.max(...up)).toBeLessThanOrEqual(Math.max(...cam.map) + 1e-6);
    expect(Math.min(...up)).toBeGreaterThanOrEqual(Math.min(...cam.map) - 1e-6);
  });
});
