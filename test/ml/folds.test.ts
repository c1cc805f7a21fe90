// Fold assignment: deterministic for a seed, different for another seed, balanced in size, and
// stratified (every fold spans the mass range in the same proportions).
import { describe, expect, it } from 'vitest';
import { assignFolds, foldSplit } from '../../src/ml/folds.js';
import { Rng } from '../../src/ml/rng.js';

// A skewed mass distribution, like a real sample: many low-mass clusters, a tail of massive ones.
const rng = new Rng(42);
const logM = Array.from({ length: 503 }, () => 14 + Math.abs(rng.normal()) * 0.4);

const get = (v: number[], k: number, seed: number) => {
  const r = assignFolds(v, k, seed);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('assignFolds', () => {
  it('is deterministic for a seed and changes with the seed', () => {
    expect(get(logM, 5, 1)).toEqual(get(logM, 5, 1));
    const other = get(logM, 5, 2);
    const same = get(logM, 5, 1).filter((f, i) => f === other[i]).length;
    // Two independent assignments agree on about 1/5 of the clusters, far from all.
    expect(same).toBeLessThan(logM.length / 2);
  });

  it('puts every cluster in one fold and balances fold sizes to within one', () => {
    const folds = get(logM, 5, 1);
    expect(folds.every((f) => Number.isInteger(f) && f >= 0 && f < 5)).toBe(true);
    const sizes = [0, 1, 2, 3, 4].map((k) => folds.filter((f) => f === k).length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(sizes.reduce((a, b) => a + b)).toBe(logM.length);
  });

  it('is stratified: each fold has the same share of every mass quintile', () => {
    const folds = get(logM, 5, 7);
    const sorted = [...logM].sort((a, b) => a - b);
    const edges = [0.2, 0.4, 0.6, 0.8].map((q) => sorted[Math.floor(q * sorted.length)]!);
    const bin = (v: number) => edges.filter((e) => v >= e).length;
    for (let k = 0; k < 5; k++) {
      const { test } = foldSplit(folds, k);
      const counts = [0, 0, 0, 0, 0];
      for (const i of test) counts[bin(logM[i]!)]! += 1;
      // ~20 per quintile per fold; ranking in blocks of k keeps each within 1 of its share.
      for (const c of counts) expect(Math.abs(c - test.length / 5)).toBeLessThanOrEqual(2);
    }
    // A plain random split would not be this even: the test is sensitive to stratification.
    const random = logM.map(() => rng.int(5));
    const spread = [0, 1, 2, 3, 4].map((k) => random.filter((f, i) => f === k && bin(logM[i]!) === 4).length);
    expect(Math.max(...spread) - Math.min(...spread)).toBeGreaterThan(2);
  });

  it('rejects impossible requests with a reason', () => {
    expect(assignFolds([14, 14.5], 5, 1)).toEqual({ ok: false, error: '2 labelled clusters cannot fill 5 folds' });
    expect(assignFolds(logM, 1, 1).ok).toBe(false);
    expect(assignFolds([14, Number.NaN, 15], 2, 1)).toEqual({ ok: false, error: 'value 1 is not a finite number' });
  });
});
