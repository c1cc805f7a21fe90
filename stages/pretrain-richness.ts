// Stage pretrain-richness: the count-aware pretext task. Network 2's architecture is trained on the
// frozen features of every cluster, labelled or not, to predict log10 richness, which every
// redMaPPer cluster has; fit-mass's `pretext` variant then fine-tunes it on the labelled masses.
// Richness is an input every cluster comes with (the baseline and the hybrid read it at test time
// too), so learning it on the test folds' clusters reveals none of their mass labels.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { defineStage } from '../src/stage/define.js';
import { unwrap } from '../src/core/result.js';
import { loadBackendForStage } from '../src/ml/backend.js';
import { readFeatures } from '../src/ml/features.js';
import { locateInputs, required } from '../src/ml/inputs.js';
import { RICHNESS_PRETEXT_KIND, trunkDigest } from '../src/ml/mass-net.js';
import { deriveSeed } from '../src/ml/rng.js';
import { FIT_DEFAULTS, FitParams } from '../src/ml/schemas.js';
import { trainRegressor } from '../src/ml/train-mass.js';

export default defineStage({
  description: 'Count-aware pretext: network 2 trained on every cluster to predict log10 richness.',
  params: Type.Object({ pretext: FitParams }),
  async run(ctx) {
    const p = { ...FIT_DEFAULTS, ...ctx.params.pretext };
    const backend = await loadBackendForStage(ctx.backend);
    const set = unwrap(await readFeatures(unwrap(required(locateInputs(ctx.deps), 'features', ctx.deps), 'pretrain-richness')), 'pretrain-richness');
    const target = set.index.clusters.map((c) => (c.richness !== null && c.richness > 0 ? Math.log10(c.richness) : Number.NaN));
    const train = target.flatMap((t, i) => (Number.isNaN(t) ? [] : [i]));
    if (train.length < 4) throw new Error(`pretrain-richness: ${train.length} clusters with a positive richness; the pretext task needs at least 4`);
    const labelled = set.index.clusters.filter((c) => c.logM500 !== null).length;
    ctx.log(`backend ${backend.name} (${backend.version}); log10 richness of ${train.length} clusters (${labelled} of them labelled)`);
    const result = await trainRegressor(set, target, train, {
      epochs: p.epochs, batch: p.batch, lr: p.lr, patience: p.patience,
      seed: deriveSeed(p.seed, 'pretext'), hidden: p.hidden, augment: p.augment, valFraction: p.valFraction,
    }, {
      signal: ctx.signal,
      onProgress: (d, t) => ctx.progress(d, t),
      onEpoch: (e) => {
        ctx.metric('train_mae', e.trainMae, e.epoch);
        if (!Number.isNaN(e.valMae)) ctx.metric('val_mae', e.valMae, e.epoch);
      },
    });
    const first = result.history[0]!;
    const best = result.history[result.bestEpoch - 1] ?? result.history.at(-1)!;
    ctx.metric('best_epoch', result.bestEpoch);
    ctx.metric('val_mae_best', best.valMae);
    ctx.log(`${result.train.length} train / ${result.val.length} early-stopping clusters; MAE in log10 richness: ` +
      `epoch 1 ${first.trainMae.toFixed(4)} (val ${first.valMae.toFixed(4)}), best epoch ${result.bestEpoch} val ${best.valMae.toFixed(4)}`);
    await mkdir(ctx.outDir, { recursive: true });
    const digest = await trunkDigest(result.net);
    for (const f of await result.net.save(ctx.outDir, RICHNESS_PRETEXT_KIND, { ...result.config, target: 'log10 richness', clusters: train.length, trunkDigest: digest })) ctx.artifact(f);
    await writeFile(join(ctx.outDir, 'history.json'), JSON.stringify(result.history, null, 1) + '\n');
    result.net.dispose();
  },
});
