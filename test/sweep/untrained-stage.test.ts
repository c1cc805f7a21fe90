// The stage switch shipped for the "no pre-training" ablation is a drop-in for pretrain-bands:
// network 1 saved at exactly the seeded weights pretrain-bands starts from, and extract-features
// (the next stage, unchanged) reads it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBackend } from '../../src/ml/backend.js';
import { BAND_NET_KIND, initBandNet } from '../../src/ml/band-net.js';
import { deriveSeed } from '../../src/ml/rng.js';
import { runStageInProcess } from '../../src/stage/testing.js';
import untrainedBands from '../../experiments/stages/untrained-bands.js';
import extractFeatures from '../../stages/extract-features.js';
import { writeSyntheticCutouts } from '../ml/synthetic.js';

const info = describeBackend();
if (!info.ok) throw new Error(info.error);
const backend = info.value.name;
const pretrain = { epochs: 2, batch: 32, lr: 3e-3, seed: 5, width: 4, featureChannels: 4 };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'massflow-untrained-'));
  writeSyntheticCutouts(join(dir, 'data/cutouts'), { count: 12, size: 16, seed: 3, labelled: 1 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('experiments/stages/untrained-bands.ts', () => {
  it('saves network 1 untrained, at the initial weights pretrain-bands would start from', async () => {
    await runStageInProcess(untrainedBands, { projectDir: dir, backend, params: { pretrain }, deps: ['data/cutouts'], outs: ['models/band-classifier'] });
    const out = join(dir, 'models/band-classifier');
    const model = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(model.kind).toBe(BAND_NET_KIND);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toMatchObject({ trained: false, imagesPerSecond: null });
    const fresh = initBandNet(model.config, deriveSeed(pretrain.seed, 'band-init'));
    await fresh.save(join(dir, 'expected'), BAND_NET_KIND, model.config);
    fresh.dispose();
    expect(readFileSync(join(out, 'weights.bin')).equals(readFileSync(join(dir, 'expected/weights.bin')))).toBe(true);
  });

  it('is read by extract-features like the trained network', async () => {
    await runStageInProcess(extractFeatures, { projectDir: dir, backend, params: {}, deps: ['data/cutouts', 'models/band-classifier'], outs: ['data/features'] });
    const index = JSON.parse(readFileSync(join(dir, 'data/features/index.json'), 'utf8'));
    expect([index.count, index.channels]).toEqual([12, 5 * pretrain.featureChannels]);
  });
});
