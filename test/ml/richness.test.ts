// The richness baseline: the power law is recovered from synthetic clusters with a known answer,
// and its cross-validated score uses the same test folds as the CNN.
import { describe, expect, it } from 'vitest';
import { richnessBaseline } from '../../src/ml/cv-summary.js';
import { assignFolds, foldSplit } from '../../src/ml/folds.js';
import { fitPowerLaw, predictPowerLaw } from '../../src/ml/richness.js';
import { Rng } from '../../src/ml/rng.js';

describe('richness power law', () => {
  it('recovers a and b exactly from noiseless data', () => {
    const lambda = [20, 35, 50, 80, 120, 200];
    const logM = lambda.map((l) => 12.1 + 1.08 * Math.log10(l));
    const r = fitPowerLaw(lambda, logM);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.a).toBeCloseTo(12.1, 10);
    expect(r.value.b).toBeCloseTo(1.08, 10);
    expect(predictPowerLaw(r.value, 100)).toBeCloseTo(14.26, 10);
  });

  it('recovers them within the expected error from scattered data, and scores the scatter as MAE', () => {
    const rng = new Rng(5);
    const n = 4000;
    const sigma = 0.2;
    const lambda = Array.from({ length: n }, () => 20 * 10 ** (1.3 * rng.next()));
    const logM = lambda.map((l) => 12.1 + 1.08 * Math.log10(l) + sigma * rng.normal());
    const folds = assignFolds(logM, 5, 1);
    if (!folds.ok) throw new Error(folds.error);
    const clusters = logM.map((m, i) => ({ id: `c${i}`, logM500: m, richness: lambda[i]! }));
    for (let k = 0; k < 5; k++) {
      const s = richnessBaseline(clusters, folds.value, k);
      expect(s).not.toBeNull();
      // Slope standard error ~ sigma / (sd(log lambda) sqrt(n)) ~ 0.01.
      expect(s!.fit.b).toBeGreaterThan(1.08 - 0.05);
      expect(s!.fit.b).toBeLessThan(1.08 + 0.05);
      // MAE of Gaussian scatter is sigma * sqrt(2/pi) ~ 0.160.
      expect(s!.mae).toBeGreaterThan(0.14);
      expect(s!.mae).toBeLessThan(0.18);
      expect(s!.n).toBe(foldSplit(folds.value, k).test.length);
    }
  });

  it('leaves clusters without richness out of the baseline and says why a fit is impossible', () => {
    const clusters = [
      { id: 'a', logM500: 14, richness: 20 }, { id: 'b', logM500: 14.2, richness: null },
      { id: 'c', logM500: 14.4, richness: 40 }, { id: 'd', logM500: 14.6, richness: 60 },
    ];
    const s = richnessBaseline(clusters, [0, 0, 1, 1], 0);
    expect(s?.n).toBe(1);
    expect(fitPowerLaw([30, 30], [14, 14.5])).toEqual({ ok: false, error: 'all clusters have the same richness; the slope is undefined' });
    expect(fitPowerLaw([30, -1], [14, 14.5]).ok).toBe(false);
  });
});
