// Both networks learn on tiny configurations: network 1 beats chance clearly within a few epochs,
// network 2's L1 loss falls, early stopping keeps the best epoch, and training is deterministic
// for a seed on one backend.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBackend } from '../../src/ml/backend.js';
import { bandNetFeatures, bandNetLogits, BAND_NET_KIND, initBandNet, type BandNetConfig } from '../../src/ml/band-net.js';
import { CutoutDataset } from '../../src/ml/cutouts.js';
import { extractFeatureMaps } from '../../src/ml/extract.js';
import { FEATURES_FORMAT, type LabelledFeatureSet } from '../../src/ml/features.js';
import { assignFolds, foldSplit } from '../../src/ml/folds.js';
import { ParamStore } from '../../src/ml/params.js';
import { unwrap } from '../../src/core/result.js';
import { mae } from '../../src/ml/stats.js';
import { trainBandNet, type BandTrainOptions } from '../../src/ml/train-band.js';
import { predictMass, trainMassNet, type MassTrainOptions } from '../../src/ml/train-mass.js';
import { writeSyntheticCutouts } from './synthetic.js';

let dir: string;
let ds: CutoutDataset;
let backendName: string;
const SIZE = 16;
const cfg = (): BandNetConfig => ({ size: SIZE, bands: ['u', 'g', 'r', 'i', 'z'], width: 8, featureChannels: 8, normalisation: 'image' });
const bandOpts: BandTrainOptions = { epochs: 14, batch: 32, lr: 1e-2, seed: 1, augment: true, valFraction: 0.25 };
const massOpts: MassTrainOptions = { epochs: 12, batch: 16, lr: 3e-3, patience: 0, seed: 1, hidden: 16, augment: true, valFraction: 0.2 };

async function weightsOf(p: ParamStore): Promise<number[]> {
  const out: number[] = [];
  for (const v of p.list()) out.push(...(await v.data()));
  return out;
}

describe('training', () => {
  let features: LabelledFeatureSet;

  beforeAll(async () => {
    backendName = (await loadBackend()).name;
    dir = mkdtempSync(join(tmpdir(), 'massflow-ml-train-'));
    writeSyntheticCutouts(join(dir, 'cutouts'), { count: 60, size: SIZE, seed: 21 });
    ds = unwrap(CutoutDataset.open(join(dir, 'cutouts')), 'test');
    // Features from an untrained network 1 are enough for network 2 to learn from here.
    const net = initBandNet(cfg(), 9);
    const idx = ds.index.clusters.map((_, i) => i);
    const data = await extractFeatureMaps(ds, net, cfg(), idx, 32);
    net.dispose();
    features = {
      index: {
        format: FEATURES_FORMAT, count: ds.count, side: SIZE / 8, bands: [...ds.bands], channelsPerBand: 8, channels: 40,
        size: SIZE, normalisation: 'image', backend: backendName, file: 'features.f32',
        clusters: ds.index.clusters.map((c, i) => ({ id: c.id, cutoutIndex: i, logM500: c.logM500!, richness: c.richness, z: c.z })),
      },
      data,
    };
  });
  afterAll(() => {
    ds.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('network 1 classifies bands of held-out clusters clearly above chance (20%) after 14 short epochs', async () => {
    const net = initBandNet(cfg(), 1);
    const r = await trainBandNet(ds, net, cfg(), bandOpts);
    const last = r.history.at(-1)!;
    expect(r.valImages).toBe(15 * 5);
    expect(last.valAccuracy).toBeGreaterThan(0.5);
    expect(last.loss).toBeLessThan(r.history[0]!.loss);
    // The confusion matrix counts every validation image once, mostly on the diagonal.
    const total = r.confusion.flat().reduce((a, b) => a + b, 0);
    const diag = r.confusion.reduce((s, row, i) => s + row[i]!, 0);
    expect(total).toBe(r.valImages);
    expect(diag / total).toBeCloseTo(last.valAccuracy, 10);
    net.dispose();
  });

  it('network 1 training is deterministic for a seed on this backend', async () => {
    const opts = { ...bandOpts, epochs: 1 };
    const a = initBandNet(cfg(), 4);
    const b = initBandNet(cfg(), 4);
    const ra = await trainBandNet(ds, a, cfg(), opts);
    const rb = await trainBandNet(ds, b, cfg(), opts);
    expect(rb.history[0]!.loss).toBe(ra.history[0]!.loss);
    expect(await weightsOf(b)).toEqual(await weightsOf(a));
    // And the seed matters.
    const c = initBandNet(cfg(), 5);
    expect(await weightsOf(c)).not.toEqual(await weightsOf(initBandNet(cfg(), 4)));
    tf.dispose([a, b, c].flatMap((p) => p.list()));
  });

  it('a saved network 1 loads back and computes the same logits', async () => {
    const net = initBandNet(cfg(), 2);
    await net.save(join(dir, 'band'), BAND_NET_KIND, cfg());
    const loaded = unwrap(await ParamStore.load<BandNetConfig>(join(dir, 'band'), BAND_NET_KIND), 'load');
    expect(loaded.config).toEqual(cfg());
    const x = tf.randomNormal([2, SIZE, SIZE, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const ya = await bandNetLogits(net, bandNetFeatures(net, x)).data();
    const yb = await bandNetLogits(loaded.store, bandNetFeatures(loaded.store, x)).data();
    expect(Array.from(yb)).toEqual(Array.from(ya));
    const wrongKind = await ParamStore.load(join(dir, 'band'), 'mass-regressor');
    expect(wrongKind).toEqual({ ok: false, error: `${join(dir, 'band')} holds a band-classifier, expected a mass-regressor` });
  });

  it('network 2 L1 loss falls and beats predicting the training mean on the test fold', async () => {
    const folds = unwrap(assignFolds(features.index.clusters.map((c) => c.logM500), 4, 1), 'folds');
    const { train, test } = foldSplit(folds, 0);
    const r = await trainMassNet(features, train, massOpts);
    const first = r.history[0]!.trainMae;
    const last = r.history.at(-1)!.trainMae;
    expect(last).toBeLessThan(0.8 * first);
    const truth = test.map((i) => features.index.clusters[i]!.logM500);
    const trainMean = train.reduce((s, i) => s + features.index.clusters[i]!.logM500, 0) / train.length;
    const pred = await predictMass(r.net, features, test);
    expect(mae(pred, truth)).toBeLessThan(mae(truth.map(() => trainMean), truth));
    r.net.dispose();
  });

  it('network 2 early stopping restores the weights of the best validation epoch', async () => {
    const folds = unwrap(assignFolds(features.index.clusters.map((c) => c.logM500), 4, 1), 'folds');
    const { train } = foldSplit(folds, 1);
    const r = await trainMassNet(features, train, { ...massOpts, epochs: 30, patience: 2, lr: 1e-2 });
    const best = Math.min(...r.history.map((e) => e.valMae));
    expect(r.history[r.bestEpoch - 1]!.valMae).toBe(best);
    if (r.stoppedEarly) expect(r.history.length - r.bestEpoch).toBe(2);
    else expect(r.history.length).toBe(30);
    const valTruth = r.val.map((i) => features.index.clusters[i]!.logM500);
    expect(mae(await predictMass(r.net, features, r.val), valTruth)).toBeCloseTo(best, 5);
    expect(new Set([...r.train, ...r.val]).size).toBe(train.length);
    r.net.dispose();
  });
});
