// k-fold assignment stratified by mass: every fold spans the whole mass range in the same
// proportions, so per-fold MAEs are comparable and no fold tests on masses it never trained on.
// Clusters are ranked by log M; each consecutive block of k gets the k folds in a seeded random
// order. Deterministic for (values, k, seed); ties keep input order.
import { err, ok, type Result } from '../core/result.js';
import { deriveSeed, range, Rng } from './rng.js';

export function assignFolds(values: readonly number[], k: number, seed: number): Result<number[]> {
  if (!Number.isInteger(k) || k < 2) return err(`folds must be an integer >= 2, got ${k}`);
  if (values.length < k) return err(`${values.length} labelled clusters cannot fill ${k} folds`);
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) return err(`value ${bad} is not a finite number`);
  const rng = new Rng(deriveSeed(seed, 'folds', k));
  const order = range(values.length).sort((a, b) => values[a]! - values[b]! || a - b);
  const fold = new Array<number>(values.length).fill(-1);
  const sizes = new Array<number>(k).fill(0);
  for (let start = 0; start < order.length; start += k) {
    const block = order.slice(start, start + k);
    // A full block takes every fold once; the last, partial block fills the smallest folds
    // (all equal here) in a random order, so sizes differ by at most one.
    const folds = rng.shuffle(range(k)).slice(0, block.length);
    block.forEach((idx, j) => {
      fold[idx] = folds[j]!;
      sizes[folds[j]!]! += 1;
    });
  }
  return ok(fold);
}

/** Indices of the test fold and of the rest. */
export function foldSplit(folds: readonly number[], k: number): { train: number[]; test: number[] } {
  const train: number[] = [];
  const test: number[] = [];
  folds.forEach((f, i) => (f === k ? test : train).push(i));
  return { train, test };
}
