// Stage fit-mass (one process per variant and fold): network 2 on the frozen features of the
// training folds' labelled clusters, L1 loss on log10 M500, early stopping on a split of the training
// folds; predicts the test fold. The foreach variable `variant` says where training starts: `paper`
// (seeded weights, the paper's protocol), `pretext` (pretrain-richness's network, fine-tuned) or
// `hybrid` (log richness as a second input); without it, `paper`.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { defineStage } from '../src/stage/define.js';
import { loadBackendForStage } from '../src/ml/backend.js';
import { FOLD_PREDICTIONS_FORMAT, type FoldPredictions } from '../src/ml/cv-summary.js';
import { labelledOnly, readFeatures } from '../src/ml/features.js';
import { assignFolds, foldSplit } from '../src/ml/folds.js';
import { locateInputs, required } from '../src/ml/inputs.js';
import { MASS_NET_KIND, RICHNESS_PRETEXT_KIND, trunkDigest, type MassNetConfig, type TrunkDigest } from '../src/ml/mass-net.js';
import { ParamStore } from '../src/ml/params.js';
import { unwrap } from '../src/core/result.js';
import { deriveSeed } from '../src/ml/rng.js';
import { CvParams, FIT_DEFAULTS, FitParams, MASS_VARIANTS, type MassVariant } from '../src/ml/schemas.js';
import { mae } from '../src/ml/stats.js';
import { predictMass, trainMassNet, type MassStart } from '../src/ml/train-mass.js';

export default defineStage({
  description: 'Network 2 for one cross-validation fold: regress log10 M500 from frozen band features.',
  params: Type.Object({ fit: FitParams, cv: CvParams }),
  async run(ctx) {
    const p = { ...FIT_DEFAULTS, ...ctx.params.fit };
    const { folds, seed: cvSeed } = ctx.params.cv;
    const fold = Number(ctx.vars['fold']);
    if (!Number.isInteger(fold) || fold < 0 || fold >= folds) {
      throw new Error(`fit-mass: foreach variable fold must be an integer in 0..${folds - 1}, got ${String(ctx.vars['fold'])}`);
    }
    const variant = (ctx.vars['variant'] ?? 'paper') as MassVariant;
    if (!MASS_VARIANTS.includes(variant)) {
      throw new Error(`fit-mass: foreach variable variant must be one of ${MASS_VARIANTS.join(', ')}, got ${String(ctx.vars['variant'])}`);
    }
    const backend = await loadBackendForStage(ctx.backend);
    ctx.log(`${variant}, fold ${fold}/${folds}, backend ${backend.name} (${backend.version})`);
    const inputs = locateInputs(ctx.deps);
    const dir = unwrap(required(inputs, 'features', ctx.deps), 'fit-mass');
    const set = unwrap(labelledOnly(unwrap(await readFeatures(dir), 'fit-mass')), 'fit-mass');
    const logM = set.index.clusters.map((c) => c.logM500);
    let start: MassStart = { kind: variant === 'paper' ? 'scratch' : 'hybrid' };
    let pretextDigest: TrunkDigest | undefined;
    if (variant === 'pretext') {
      const pretextDir = unwrap(required(inputs, 'pretext', ctx.deps), 'fit-mass');
      const loaded = unwrap(await ParamStore.load<MassNetConfig>(pretextDir, RICHNESS_PRETEXT_KIND), 'fit-mass');
      pretextDigest = await trunkDigest(loaded.store);
      start = { kind: 'pretext', net: loaded.store, config: loaded.config };
    }
    const assignment = unwrap(assignFolds(logM, folds, cvSeed), 'fit-mass');
    const { train, test } = foldSplit(assignment, fold);
    const result = await trainMassNet(set, train, {
      epochs: p.epochs, batch: p.batch, lr: p.lr, patience: p.patience,
      // Each fold its own stream, all fixed by the seed.
      seed: deriveSeed(p.seed, 'fold', fold), hidden: p.hidden, augment: p.augment, valFraction: p.valFraction,
    }, {
      signal: ctx.signal,
      onProgress: (d, t) => ctx.progress(d, t),
      onEpoch: (e) => {
        ctx.metric('train_mae', e.trainMae, e.epoch);
        if (!Number.isNaN(e.valMae)) ctx.metric('val_mae', e.valMae, e.epoch);
      },
    }, start);
    if (start.kind === 'pretext') start.net.dispose();
    if (pretextDigest && pretextDigest !== result.startDigest) {
      throw new Error(`fit-mass: the fine-tuned network did not start from the pretext weights (${result.startDigest} != ${pretextDigest})`);
    }
    const pred = await predictMass(result.net, set, test);
    const truth = test.map((i) => logM[i]!);
    const testMae = mae(pred, truth);
    ctx.metric('test_mae', testMae);
    ctx.metric('best_epoch', result.bestEpoch);
    ctx.log(`${variant} fold ${fold}: ${result.train.length} train / ${result.val.length} early-stopping / ${test.length} test clusters; ` +
      `best epoch ${result.bestEpoch}${result.stoppedEarly ? ' (stopped early)' : ''}; test MAE ${testMae.toFixed(4)} dex`);
    await mkdir(ctx.outDir, { recursive: true });
    for (const f of await result.net.save(ctx.outDir, MASS_NET_KIND, { ...result.config, variant, fold, folds, cvSeed, startDigest: result.startDigest, ...(pretextDigest ? { pretextDigest } : {}) })) ctx.artifact(f);
    const out: FoldPredictions = {
      format: FOLD_PREDICTIONS_FORMAT, variant, fold, folds,
      ids: test.map((i) => set.index.clusters[i]!.id), truth, pred: Array.from(pred),
      bestEpoch: result.bestEpoch, stoppedEarly: result.stoppedEarly, epochs: result.history.length,
      imagesPerSecond: result.imagesPerSecond,
    };
    await writeFile(join(ctx.outDir, 'predictions.json'), JSON.stringify(out) + '\n');
    await writeFile(join(ctx.outDir, 'history.json'), JSON.stringify(result.history, null, 1) + '\n');
    result.net.dispose();
  },
});
