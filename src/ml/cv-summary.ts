// Cross-validation bookkeeping: what each fold process writes (its test predictions) and the
// summary cross-validate makes of them, with the richness baseline scored on the same test folds.
import { foldSplit } from './folds.js';
import { fitPowerLaw, predictPowerLaw, type PowerLaw } from './richness.js';
import { err, ok, type Result } from '../core/result.js';
import { mae, mean, std } from './stats.js';

export const CV_FORMAT = 'massflow.cv/1';
export const FOLD_PREDICTIONS_FORMAT = 'massflow.fold-predictions/1';

export interface FoldPredictions {
  format: typeof FOLD_PREDICTIONS_FORMAT;
  /** How network 2 was trained (paper, pretext, hybrid); absent in files from before variants. */
  variant?: string;
  fold: number;
  folds: number;
  ids: string[];
  truth: number[];
  pred: number[];
  bestEpoch: number;
  stoppedEarly: boolean;
  epochs: number;
  imagesPerSecond: number;
}

export interface LabelledCluster { id: string; logM500: number; richness: number | null }

export interface FoldScore {
  fold: number;
  n: number;
  mae: number;
  bestEpoch: number;
  stoppedEarly: boolean;
  richness: { mae: number; n: number; fit: PowerLaw } | null;
}

export interface CvSummary {
  format: typeof CV_FORMAT;
  folds: number;
  seed: number;
  clusters: number;
  perFold: FoldScore[];
  mean: number;
  std: number;
  best: { fold: number; mae: number };
  richness: { mean: number; std: number; clustersWithout: number } | null;
  floor: number | null;
  backend: { name: string; version: string };
  imagesPerSecond: { pretrain: number | null; fit: number };
  predictions: { id: string; fold: number; truth: number; pred: number }[];
  /** Every variant scored on the same folds, the first being the one the fields above describe. */
  variants?: VariantScore[];
}

export interface VariantScore { name: string; perFold: number[]; mean: number; std: number; best: number }

export const variantScore = (name: string, s: CvSummary): VariantScore =>
  ({ name, perFold: s.perFold.map((f) => f.mae), mean: s.mean, std: s.std, best: s.best.mae });

/** The variants side by side with the richness baseline and the floor, all on the same folds. */
export function variantsTable(s: CvSummary, variants: readonly VariantScore[]): string {
  const f = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(3));
  const cols = [...variants.map((v) => v.name), 'richness'];
  const w = Math.max(8, ...cols.map((c) => c.length + 1));
  const row = (label: string, cells: (number | null | undefined)[]) => label.padEnd(12) + cells.map((c) => f(c).padStart(w)).join('');
  const rich = s.perFold.map((p) => p.richness?.mae);
  const lines = [
    'fold   n    ' + cols.map((c) => c.padStart(w)).join(''),
    ...s.perFold.map((p, k) => `${String(p.fold).padEnd(6)} ${String(p.n).padEnd(4)} ` + [...variants.map((v) => v.perFold[k]), rich[k]].map((c) => f(c).padStart(w)).join('')),
    row('mean', [...variants.map((v) => v.mean), s.richness?.mean]),
    row('std', [...variants.map((v) => v.std), s.richness?.std]),
    row('best', [...variants.map((v) => v.best), s.richness ? Math.min(...rich.filter((x): x is number => x !== undefined)) : null]),
  ];
  if (s.floor) lines.push(row('/ floor', [...variants.map((v) => v.mean / s.floor!), s.richness ? s.richness.mean / s.floor : null]));
  if (s.richness) lines.push(row('/ richness', [...variants.map((v) => v.mean / s.richness!.mean), 1]));
  lines.push(`scatter floor: ${f(s.floor)} dex; ${s.clusters} labelled clusters, ${s.folds} folds stratified by mass (seed ${s.seed})`);
  return lines.join('\n');
}

export function richnessBaseline(clusters: readonly LabelledCluster[], assignment: readonly number[], fold: number): FoldScore['richness'] {
  const { train, test } = foldSplit(assignment, fold);
  const has = (i: number) => (clusters[i]!.richness ?? 0) > 0;
  const tr = train.filter(has);
  const te = test.filter(has);
  if (te.length === 0) return null;
  const fit = fitPowerLaw(tr.map((i) => clusters[i]!.richness!), tr.map((i) => clusters[i]!.logM500));
  if (!fit.ok) return null;
  const pred = te.map((i) => predictPowerLaw(fit.value, clusters[i]!.richness!));
  return { mae: mae(pred, te.map((i) => clusters[i]!.logM500)), n: te.length, fit: fit.value };
}

export function summarise(args: {
  clusters: readonly LabelledCluster[];
  assignment: readonly number[];
  folds: number;
  seed: number;
  predictions: readonly FoldPredictions[];
  floor: number | null;
  backend: { name: string; version: string };
  pretrainImagesPerSecond: number | null;
}): Result<CvSummary> {
  const { clusters, assignment, folds } = args;
  const byFold = new Map(args.predictions.map((p) => [p.fold, p]));
  const perFold: FoldScore[] = [];
  const predictions: CvSummary['predictions'] = [];
  for (let k = 0; k < folds; k++) {
    const p = byFold.get(k);
    if (!p) return err(`no predictions for fold ${k} (expected one fit-mass output per fold 0..${folds - 1})`);
    if (p.folds !== folds) return err(`fold ${k} was trained with ${p.folds} folds, this summary uses ${folds}`);
    const expected = foldSplit(assignment, k).test.map((i) => clusters[i]!.id);
    if (expected.length !== p.ids.length || expected.some((id, j) => id !== p.ids[j])) {
      return err(`fold ${k}'s test clusters differ from this fold assignment (stale fold model or other cv.seed?)`);
    }
    perFold.push({
      fold: k, n: p.ids.length, mae: mae(p.pred, p.truth), bestEpoch: p.bestEpoch, stoppedEarly: p.stoppedEarly,
      richness: richnessBaseline(clusters, assignment, k),
    });
    p.ids.forEach((id, j) => predictions.push({ id, fold: k, truth: p.truth[j]!, pred: p.pred[j]! }));
  }
  const maes = perFold.map((f) => f.mae);
  const best = perFold.reduce((a, b) => (b.mae < a.mae ? b : a));
  const rich = perFold.map((f) => f.richness?.mae).filter((x): x is number => x !== undefined);
  return ok({
    format: CV_FORMAT, folds, seed: args.seed, clusters: clusters.length, perFold,
    mean: mean(maes), std: std(maes), best: { fold: best.fold, mae: best.mae },
    richness: rich.length === folds
      ? { mean: mean(rich), std: std(rich), clustersWithout: clusters.filter((c) => !((c.richness ?? 0) > 0)).length }
      : null,
    floor: args.floor,
    backend: args.backend,
    imagesPerSecond: { pretrain: args.pretrainImagesPerSecond, fit: mean(args.predictions.map((p) => p.imagesPerSecond)) },
    predictions,
  });
}

/** The summary as a plain-text table for logs and reports. */
export function summaryTable(s: CvSummary): string {
  const f = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(3));
  const lines = [
    `fold   n    CNN MAE  richness MAE`,
    ...s.perFold.map((p) => `${String(p.fold).padEnd(6)} ${String(p.n).padEnd(4)} ${f(p.mae).padStart(7)}  ${f(p.richness?.mae).padStart(12)}`),
    `mean        ${f(s.mean).padStart(7)}  ${f(s.richness?.mean).padStart(12)}`,
    `std         ${f(s.std).padStart(7)}  ${f(s.richness?.std).padStart(12)}`,
    `best        ${f(s.best.mae).padStart(7)}  (fold ${s.best.fold})`,
    `scatter floor: ${f(s.floor)} dex${s.floor ? `   CNN/floor: ${(s.mean / s.floor).toFixed(2)}x` : ''}` +
      `${s.richness ? `   CNN/richness: ${(s.mean / s.richness.mean).toFixed(2)}x` : ''}`,
    `backend: ${s.backend.name} (${s.backend.version})`,
    `training images/s: network 1 ${s.imagesPerSecond.pretrain === null ? '-' : s.imagesPerSecond.pretrain.toFixed(1)}, network 2 ${s.imagesPerSecond.fit.toFixed(1)} (feature maps)`,
  ];
  return lines.join('\n');
}
