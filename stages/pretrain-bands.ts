// Stage pretrain-bands: network 1, the self-supervised band classifier, trained on every cluster
// of the cutout dataset (labelled or not). Writes the model, a training summary and a confusion
// matrix of the held-out clusters.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { defineStage } from '../src/stage/define.js';
import { loadBackendForStage } from '../src/ml/backend.js';
import { bandNetConfigFor } from '../src/ml/band-config.js';
import { BAND_NET_KIND, initBandNet, type BandNetConfig } from '../src/ml/band-net.js';
import { confusionMatrixPng } from '../src/ml/charts.js';
import { CutoutDataset } from '../src/ml/cutouts.js';
import { locateInputs, required } from '../src/ml/inputs.js';
import { unwrap } from '../src/core/result.js';
import { deriveSeed } from '../src/ml/rng.js';
import { PRETRAIN_DEFAULTS, PretrainParams } from '../src/ml/schemas.js';
import { trainBandNet } from '../src/ml/train-band.js';

export default defineStage({
  description: 'Network 1: classify which band a single-band cutout is (self-supervised, all clusters).',
  params: Type.Object({ pretrain: PretrainParams }),
  async run(ctx) {
    const p = { ...PRETRAIN_DEFAULTS, ...ctx.params.pretrain };
    const backend = await loadBackendForStage(ctx.backend);
    ctx.log(`backend ${backend.name} (${backend.version})`);
    const dir = unwrap(required(locateInputs(ctx.deps), 'cutouts', ctx.deps), 'pretrain-bands');
    const ds = unwrap(CutoutDataset.open(dir), 'pretrain-bands');
    try {
      const cfg: BandNetConfig = unwrap(bandNetConfigFor(ds, p), `pretrain-bands (${dir})`);
      if (cfg.bandScales) ctx.log(`band scales (robust sigma): ${cfg.bands.map((b, k) => `${b} ${cfg.bandScales![k]!.toPrecision(3)}`).join(', ')}`);
      const net = initBandNet(cfg, deriveSeed(p.seed, 'band-init'));
      ctx.log(`${ds.count} clusters x ${ds.bands.length} bands at ${ds.size} px; network 1 has ${net.size} weights`);
      const result = await trainBandNet(ds, net, cfg, {
        epochs: p.epochs, batch: p.batch, lr: p.lr, seed: p.seed, augment: p.augment, valFraction: p.valFraction,
      }, {
        signal: ctx.signal,
        onProgress: (d, t) => ctx.progress(d, t),
        onEpoch: (e) => {
          ctx.metric('loss', e.loss, e.epoch);
          ctx.metric('accuracy', e.accuracy, e.epoch);
          if (!Number.isNaN(e.valAccuracy)) {
            ctx.metric('val_loss', e.valLoss, e.epoch);
            ctx.metric('val_accuracy', e.valAccuracy, e.epoch);
          }
          ctx.metric('images_per_s', e.imagesPerSecond, e.epoch);
          ctx.log(`epoch ${e.epoch}: loss ${e.loss.toFixed(4)} acc ${e.accuracy.toFixed(3)} val acc ${e.valAccuracy.toFixed(3)} (${e.imagesPerSecond.toFixed(1)} images/s)`);
        },
      });
      await mkdir(ctx.outDir, { recursive: true });
      for (const f of await net.save(ctx.outDir, BAND_NET_KIND, cfg)) ctx.artifact(f);
      const last = result.history.at(-1)!;
      const summary = {
        backend: { name: backend.name, version: backend.version },
        trainImages: result.trainImages, valImages: result.valImages,
        valAccuracy: last.valAccuracy, chance: 1 / cfg.bands.length,
        imagesPerSecond: result.imagesPerSecond,
        confusion: { bands: cfg.bands, matrix: result.confusion },
        history: result.history,
      };
      await writeFile(join(ctx.outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
      ctx.metric('final_val_accuracy', last.valAccuracy);
      ctx.metric('train_images_per_s', result.imagesPerSecond);
      if (result.valImages > 0) {
        const png = join(ctx.outDir, 'confusion.png');
        await writeFile(png, await confusionMatrixPng(cfg.bands, result.confusion,
          `band classifier, ${result.valImages} held-out images: accuracy ${(100 * last.valAccuracy).toFixed(1)}%`));
        ctx.artifact(png);
      }
      net.dispose();
    } finally {
      ds.close();
    }
  },
});
