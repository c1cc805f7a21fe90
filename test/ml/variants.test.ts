// Network 2's variants through the stage contract on a tiny synthetic sky (features from an untrained
// network 1, half the clusters labelled): pretrain-richness learns log richness from every cluster,
// fit-mass's `pretext` variant starts from exactly those weights (trunk digests), the `hybrid` takes
// log richness as a second input, and cross-validate scores the variants side by side.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unwrap } from '../../src/core/result.js';
import { loadBackend } from '../../src/ml/backend.js';
import { initBandNet, type BandNetConfig } from '../../src/ml/band-net.js';
import { CutoutDataset } from '../../src/ml/cutouts.js';
import { extractFeatureMaps } from '../../src/ml/extract.js';
import { FEATURES_FORMAT, writeFeatures } from '../../src/ml/features.js';
import { MASS_NET_KIND, RICHNESS_PRETEXT_KIND, trunkDigest, type MassNetConfig } from '../../src/ml/mass-net.js';
import { ParamStore } from '../../src/ml/params.js';
import { runStageInProcess, type RecordedStageRun } from '../../src/stage/testing.js';
import crossValidate from '../../stages/cross-validate.js';
import fitMass from '../../stages/fit-mass.js';
import pretrainRichness from '../../stages/pretrain-richness.js';
import { writeSyntheticCutouts } from './synthetic.js';

const SIZE = 16;
const FOLDS = 2;
const cfg: BandNetConfig = { size: SIZE, bands: ['u', 'g', 'r', 'i', 'z'], width: 4, featureChannels: 4, normalisation: 'image' };
const fit = { epochs: 4, lr: 3e-3, batch: 16, patience: 0 };
const cv = { folds: FOLDS, seed: 1 };
const variants = ['paper', 'pretext', 'hybrid'] as const;

let dir: string;
let backend: string;
let pretext: RecordedStageRun;
const values = (r: RecordedStageRun, key: string) => r.metrics.filter((m) => m.key === key).map((m) => m.value);

describe('network 2 variants: pretext, hybrid, side by side', () => {
  beforeAll(async () => {
    backend = (await loadBackend()).name;
    dir = mkdtempSync(join(tmpdir(), 'massflow-ml-variants-'));
    writeSyntheticCutouts(join(dir, 'cutouts'), { count: 48, size: SIZE, seed: 5, labelled: 0.5 });
    const ds = unwrap(CutoutDataset.open(join(dir, 'cutouts')), 'cutouts');
    const net = initBandNet(cfg, 3);
    const all = ds.index.clusters.map((_, i) => i);
    const data = await extractFeatureMaps(ds, net, cfg, all, 16);
    net.dispose();
    await writeFeatures(join(dir, 'data/features'), {
      index: {
        format: FEATURES_FORMAT, count: ds.count, side: SIZE / 8, bands: [...ds.bands], channelsPerBand: 4, channels: 20,
        size: SIZE, normalisation: 'image', backend, file: 'features.f32',
        clusters: ds.index.clusters.map((c, i) => ({ id: c.id, cutoutIndex: i, logM500: c.logM500, richness: c.richness, z: c.z })),
      },
      data,
    });
    ds.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('pretrain-richness learns log richness from every cluster: its loss falls', async () => {
    pretext = await runStageInProcess(pretrainRichness, {
      projectDir: dir, backend, params: { pretext: { epochs: 12, lr: 1e-2, batch: 16, patience: 0, valFraction: 0.2 } },
      deps: ['data/features'], outs: ['models/richness-pretext'],
    });
    const loss = values(pretext, 'train_mae');
    expect(loss).toHaveLength(12);
    expect(loss.at(-1)!).toBeLessThan(0.7 * loss[0]!);
    const model = JSON.parse(readFileSync(join(dir, 'models/richness-pretext/model.json'), 'utf8'));
    expect(model.kind).toBe(RICHNESS_PRETEXT_KIND);
    expect(model.config.clusters).toBe(48);
  });

  it('fit-mass trains each variant on the labelled clusters; the pretext variant starts from the pretext weights', async () => {
    for (const variant of variants) {
      for (let fold = 0; fold < FOLDS; fold++) {
        await runStageInProcess(fitMass, {
          projectDir: dir, backend, params: { fit, cv }, vars: { variant, fold },
          deps: ['data/features', 'models/richness-pretext'], outs: [`models/mass-${variant}-fold-${fold}`],
        });
      }
    }
    const pre = unwrap(await ParamStore.load<MassNetConfig>(join(dir, 'models/richness-pretext'), RICHNESS_PRETEXT_KIND), 'pretext');
    const pretextDigest = await trunkDigest(pre.store);
    pre.store.dispose();
    const config = (variant: string, fold: number) => JSON.parse(readFileSync(join(dir, `models/mass-${variant}-fold-${fold}/model.json`), 'utf8')).config;
    for (let fold = 0; fold < FOLDS; fold++) {
      expect(config('pretext', fold)).toMatchObject({ variant: 'pretext', startDigest: pretextDigest, pretextDigest });
      // ... and fine-tuning moved it: the saved trunk is not the pretext one.
      const tuned = unwrap(await ParamStore.load<MassNetConfig>(join(dir, `models/mass-pretext-fold-${fold}`), MASS_NET_KIND), 'tuned');
      expect(await trunkDigest(tuned.store)).not.toBe(pretextDigest);
      tuned.store.dispose();
      // The other variants start from their own seeded weights.
      expect(config('paper', fold).startDigest).not.toBe(pretextDigest);
      expect(config('hybrid', fold)).toMatchObject({ variant: 'hybrid', richnessInput: true });
      const preds = JSON.parse(readFileSync(join(dir, `models/mass-hybrid-fold-${fold}/predictions.json`), 'utf8'));
      expect(preds.ids).toHaveLength(12); // 24 labelled clusters, 2 folds
    }
  });

  it('cross-validate scores every variant on the same folds, with the richness baseline', async () => {
    const run = await runStageInProcess(crossValidate, {
      projectDir: dir, backend, params: { cv, compare: { variants: [...variants] } }, deps: ['data/features', 'models'], outs: ['reports/cv'],
    });
    const summary = JSON.parse(readFileSync(join(dir, 'reports/cv/summary.json'), 'utf8'));
    expect(summary.clusters).toBe(24);
    expect(summary.variants.map((v: { name: string }) => v.name)).toEqual([...variants]);
    for (const v of variants) expect(values(run, `mae_mean_${v}`)).toHaveLength(1);
    expect(values(run, 'mae_mean')).toEqual(values(run, 'mae_mean_paper'));
    const table = readFileSync(join(dir, 'reports/cv/summary.txt'), 'utf8');
    expect(table.split('\n')[0]).toMatch(/^fold\s+n\s+paper\s+pretext\s+hybrid\s+richness$/);
    await expect(runStageInProcess(crossValidate, {
      projectDir: dir, backend, params: { cv, compare: { variants: ['paper', 'counting'] } }, deps: ['data/features', 'models'], outs: ['reports/cv-bad'],
    })).rejects.toThrow('params do not match the stage schema at /compare/variants/1');
  });
});
