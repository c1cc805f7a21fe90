// Stage cross-validate: gathers the fold processes' test predictions into per-fold MAE, mean,
// standard deviation and best fold, for every variant of network 2 in `compare.variants` (the first
// is the headline: mae_mean and the charts); fits and scores the richness baseline on the same
// folds; adds the simulated sky's scatter floor when a floor.json is among the deps. Writes
// summary.json, a text table of the variants side by side, and the predicted-vs-true and per-fold
// MAE charts.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { defineStage } from '../src/stage/define.js';
import { describeBackendForStage } from '../src/ml/backend.js';
import { foldMaePng, predictedVsTruePng } from '../src/ml/charts.js';
import { FOLD_PREDICTIONS_FORMAT, summarise, summaryTable, variantScore, variantsTable, type CvSummary, type FoldPredictions } from '../src/ml/cv-summary.js';
import { labelledOnly, readFeatures } from '../src/ml/features.js';
import { assignFolds } from '../src/ml/folds.js';
import { locateInputs, required } from '../src/ml/inputs.js';
import { unwrap } from '../src/core/result.js';
import { CompareParams, CvParams } from '../src/ml/schemas.js';

async function readJson<T>(path: string, what: string): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (e) {
    throw new Error(`cross-validate: cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

export default defineStage({
  description: 'k-fold summary: per-fold MAE, mean, std, best; richness baseline; scatter floor; charts.',
  // Optional so a pipeline without a `compare` group scores the paper's protocol alone, as before.
  params: Type.Object({ cv: CvParams, compare: Type.Optional(CompareParams) }),
  async run(ctx) {
    const { folds, seed } = ctx.params.cv;
    const variants = ctx.params.compare?.variants ?? ['paper'];
    const inputs = locateInputs(ctx.deps);
    const set = unwrap(labelledOnly(unwrap(await readFeatures(unwrap(required(inputs, 'features', ctx.deps), 'cross-validate')), 'cross-validate')), 'cross-validate');
    const clusters = set.index.clusters;
    const assignment = unwrap(assignFolds(clusters.map((c) => c.logM500), folds, seed), 'cross-validate');
    const predictionsOf = async (variant: string) => {
      const predictions: FoldPredictions[] = [];
      for (let k = 0; k < folds; k++) {
        const dir = inputs.massVariants.get(variant)?.get(k);
        if (!dir) throw new Error(`cross-validate: no fit-mass output for variant ${variant}, fold ${k} among the deps (${ctx.deps.join(', ')})`);
        const p = await readJson<FoldPredictions>(join(dir, 'predictions.json'), `${variant} fold ${k} predictions`);
        if (p.format !== FOLD_PREDICTIONS_FORMAT) throw new Error(`cross-validate: ${dir}/predictions.json is not ${FOLD_PREDICTIONS_FORMAT}`);
        predictions.push(p);
      }
      return predictions;
    };
    let floor: number | null = null;
    if (inputs.floor) {
      const f = await readJson<{ maeFloorDex?: unknown }>(inputs.floor, 'scatter floor');
      if (typeof f.maeFloorDex !== 'number') throw new Error(`cross-validate: ${inputs.floor} has no numeric maeFloorDex`);
      floor = f.maeFloorDex;
    }
    let pretrain: number | null = null;
    if (inputs.bandNet) {
      const s = await readJson<{ imagesPerSecond?: number }>(join(inputs.bandNet, 'summary.json'), 'band classifier summary');
      pretrain = s.imagesPerSecond ?? null;
    }
    // This stage trains nothing: the backend that counts is the one the folds were trained on,
    // which the runner selected for every stage of the run.
    const described = describeBackendForStage(ctx.backend);
    const backend = described.ok ? described.value : { name: ctx.backend || 'unknown', version: described.error };
    const summaries: CvSummary[] = [];
    for (const v of variants) {
      summaries.push(unwrap(summarise({
        clusters, assignment, folds, seed, predictions: await predictionsOf(v), floor, backend, pretrainImagesPerSecond: pretrain,
      }), `cross-validate (${v})`));
    }
    const scores = summaries.map((s, i) => variantScore(variants[i]!, s));
    const summary: CvSummary = { ...summaries[0]!, variants: scores };
    for (const v of scores) {
      ctx.metric(`mae_mean_${v.name}`, v.mean);
      ctx.metric(`mae_std_${v.name}`, v.std);
      if (floor !== null) ctx.metric(`mae_over_floor_${v.name}`, v.mean / floor);
      if (summary.richness) ctx.metric(`mae_over_richness_${v.name}`, v.mean / summary.richness.mean);
    }

    for (const f of summary.perFold) {
      ctx.metric('fold_mae', f.mae, f.fold);
      if (f.richness) ctx.metric('fold_richness_mae', f.richness.mae, f.fold);
    }
    ctx.metric('mae_mean', summary.mean);
    ctx.metric('mae_std', summary.std);
    ctx.metric('mae_best', summary.best.mae);
    if (summary.richness) ctx.metric('richness_mae_mean', summary.richness.mean);
    if (floor !== null) {
      ctx.metric('floor_mae', floor);
      ctx.metric('mae_over_floor', summary.mean / floor);
    }
    if (pretrain !== null) ctx.metric('pretrain_images_per_s', pretrain);
    ctx.metric('fit_images_per_s', summary.imagesPerSecond.fit);

    await mkdir(ctx.outDir, { recursive: true });
    const table = variants.length > 1 ? `${variantsTable(summary, scores)}\n\n${variants[0]}:\n${summaryTable(summary)}` : summaryTable(summary);
    for (const line of table.split('\n')) ctx.log(line);
    await writeFile(join(ctx.outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    await writeFile(join(ctx.outDir, 'summary.txt'), table + '\n');
    const pvt = join(ctx.outDir, 'pred-vs-true.png');
    await writeFile(pvt, await predictedVsTruePng(
      summary.predictions.map((p) => ({ truth: p.truth, pred: p.pred, fold: p.fold })),
      `out-of-fold predictions: MAE ${summary.mean.toFixed(3)} +- ${summary.std.toFixed(3)} dex`,
    ));
    const bars = join(ctx.outDir, 'fold-mae.png');
    await writeFile(bars, await foldMaePng(
      summary.perFold.map((f) => ({ fold: f.fold, cnn: f.mae, richness: f.richness?.mae ?? null })), floor,
      `per-fold MAE (${folds} folds, stratified by mass)`,
    ));
    for (const f of ['summary.json', 'summary.txt']) ctx.artifact(join(ctx.outDir, f));
    ctx.artifact(pvt);
    ctx.artifact(bars);
  },
});
