// Stage switch for the "no pre-training" ablation: stands in for pretrain-bands and writes network 1
// exactly as pretrain-bands would (same architecture, same seeded initial weights, same files), but
// untrained. Network 2 then learns from random convolutional features; the gap to the baseline is
// what the self-supervised pre-training is worth.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { defineStage } from '../../src/stage/define.js';
import { loadBackendForStage } from '../../src/ml/backend.js';
import { bandNetConfigFor } from '../../src/ml/band-config.js';
import { BAND_NET_KIND, initBandNet, type BandNetConfig } from '../../src/ml/band-net.js';
import { CutoutDataset } from '../../src/ml/cutouts.js';
import { locateInputs, required } from '../../src/ml/inputs.js';
import { unwrap } from '../../src/core/result.js';
import { deriveSeed } from '../../src/ml/rng.js';
import { PRETRAIN_DEFAULTS, PretrainParams } from '../../src/ml/schemas.js';

export default defineStage({
  description: 'Network 1 left at its seeded initial weights (no pre-training), saved like pretrain-bands saves it.',
  params: Type.Object({ pretrain: PretrainParams }),
  async run(ctx) {
    const p = { ...PRETRAIN_DEFAULTS, ...ctx.params.pretrain };
    const backend = await loadBackendForStage(ctx.backend);
    const dir = unwrap(required(locateInputs(ctx.deps), 'cutouts', ctx.deps), 'untrained-bands');
    const ds = unwrap(CutoutDataset.open(dir), 'untrained-bands');
    try {
      const cfg: BandNetConfig = unwrap(bandNetConfigFor(ds, p), `untrained-bands (${dir})`);
      // The same seed derivation as pretrain-bands: the baseline starts from exactly these weights.
      const net = initBandNet(cfg, deriveSeed(p.seed, 'band-init'));
      ctx.log(`network 1 untrained: ${net.size} weights at their initial values (${ds.bands.length} bands, ${ds.size} px)`);
      await mkdir(ctx.outDir, { recursive: true });
      for (const f of await net.save(ctx.outDir, BAND_NET_KIND, cfg)) ctx.artifact(f);
      // cross-validate reads the pre-training throughput from here; there was none.
      const summary = { backend: { name: backend.name, version: backend.version }, trained: false, trainImages: 0, valImages: 0, imagesPerSecond: null };
      await writeFile(join(ctx.outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
      net.dispose();
    } finally {
      ds.close();
    }
  },
});
