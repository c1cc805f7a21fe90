// The richness baseline: log10 M500 = a + b log10(lambda), an ordinary least-squares power law
// refit on each training fold and scored (MAE) on the same test folds as the CNN. Clusters without
// a positive richness cannot enter it; how many were left out is reported with the score.
import { err, ok, type Result } from '../core/result.js';

export interface PowerLaw { a: number; b: number }

export function fitPowerLaw(richness: readonly number[], logM: readonly number[]): Result<PowerLaw> {
  if (richness.length !== logM.length) return err(`${richness.length} richness values for ${logM.length} masses`);
  const n = richness.length;
  if (n < 2) return err(`a power law needs at least 2 clusters with richness, got ${n}`);
  let sx = 0, sy = 0;
  for (let i = 0; i < n; i++) {
    if (!(richness[i]! > 0)) return err(`richness ${i} is ${richness[i]}, not positive`);
    sx += Math.log10(richness[i]!);
    sy += logM[i]!;
  }
  const mx = sx / n, my = sy / n;
  let sxx = 0, sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = Math.log10(richness[i]!) - mx;
    sxx += dx * dx;
    sxy += dx * (logM[i]! - my);
  }
  if (sxx === 0) return err('all clusters have the same richness; the slope is undefined');
  const b = sxy / sxx;
  return ok({ a: my - b * mx, b });
}

export const predictPowerLaw = (p: PowerLaw, richness: number): number => p.a + p.b * Math.log10(richness);
