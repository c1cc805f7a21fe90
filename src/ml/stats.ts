// Scores and summary statistics shared by training, cross-validation and the baseline.

export function mae(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  if (pred.length !== truth.length) throw new Error(`mae: ${pred.length} predictions for ${truth.length} values`);
  if (pred.length === 0) return Number.NaN;
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += Math.abs(pred[i]! - truth[i]!);
  return s / pred.length;
}

export function mean(a: readonly number[]): number {
  return a.length ? a.reduce((s, x) => s + x, 0) / a.length : Number.NaN;
}

/** Sample standard deviation (n - 1); 0 for a single value. */
export function std(a: readonly number[]): number {
  if (a.length < 2) return 0;
  const m = mean(a);
  return Math.sqrt(a.reduce((s, x) => s + (x - m) ** 2, 0) / (a.length - 1));
}
