// Calibrating the simulated sky on a labelled catalogue (src/astro/sim/calibrate.ts): the fit gives
// back a known scatter, slope and level; on the shipped real catalogues it gives paper.yaml's sim
// params, and the sim with those params reproduces the real richness baseline within its fold spread.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readClusterCatalog } from '../../src/astro/cluster-catalog.js';
import { calibrateSky, sampleStats, simulateLabelled } from '../../src/astro/sim/calibrate.js';
import { knotDensity, quantileKnots, sampleKnots } from '../../src/astro/sim/labelled.js';
import { Rng } from '../../src/astro/sim/rng.js';
import { runStageInProcess } from '../../src/stage/testing.js';
import buildCatalog from '../../stages/build-catalog.js';
import calibrateSkyStage from '../../stages/calibrate-sky.js';
import simSky from '../../stages/sim-sky.js';
import { CATALOGS, haveSharedData } from './shared-data.js';

const paper = parse(await readFile(new URL('../../pipelines/paper.yaml', import.meta.url), 'utf8'));

describe('labelled-sample distributions (quantile knots)', () => {
  it('draws reproduce the knots, and the density integrates to 1', () => {
    const knots = [13.5, 14.1, 14.3, 14.5, 15.2];
    const rng = new Rng(3);
    const draws = Array.from({ length: 20000 }, () => sampleKnots(rng, knots));
    quantileKnots(draws, knots.length).forEach((q, i) => expect(q).toBeCloseTo(knots[i]!, 1));
    let integral = 0;
    for (let x = 13.4; x < 15.3; x += 0.0001) integral += knotDensity(knots, x) * 0.0001;
    expect(integral).toBeCloseTo(1, 3);
  });
});

describe('calibrateSky', () => {
  it('recovers a known member-count scatter, slope and level from a labelled sample drawn with them', () => {
    const truth = { richnessNorm: 30, richnessSlope: 0.7, richnessScatter: 0.35 };
    const knots = [13.6, 14.1, 14.3, 14.5, 14.7, 15.2];
    const sample = simulateLabelled(truth, knots, { richnessPivot: 1e14, richnessNoise: 0.1, draws: 3000, seed: 99 })
      .map((c) => ({ ...c, z: 0.2 }));
    const cal = calibrateSky(sample, { draws: 3000, seed: 1, knots: 6 });
    expect(cal.richnessScatter).toBeGreaterThan(truth.richnessScatter - 0.04);
    expect(cal.richnessScatter).toBeLessThan(truth.richnessScatter + 0.04);
    expect(cal.richnessSlope).toBeCloseTo(truth.richnessSlope, 1);
    expect(cal.richnessNorm / truth.richnessNorm).toBeGreaterThan(0.93);
    expect(cal.richnessNorm / truth.richnessNorm).toBeLessThan(1.07);
    expect(Math.abs(cal.sim.baselineMae - cal.real.baselineMae)).toBeLessThan(0.002);
  });

  it('refuses a sample too small to calibrate on', () => {
    expect(() => calibrateSky([{ logM500: 14, z: 0.2, richness: 30 }])).toThrow(/at least 20 labelled clusters/);
  });
});

describe('sim-sky with a labelled fraction', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'astro-labelled-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('labels the first `labelled` clusters, drawn from the knots; the rest carry richness only', async () => {
    const sim = { clusters: 10, labelled: 4, seed: 3, bands: ['r'], floorDraws: 2000, galaxyDensity: 100, starDensity: 50, labelledLogM: [14.8, 15.0], labelledZ: [0.2, 0.25] };
    const rec = await runStageInProcess(simSky, { projectDir: dir, params: { sim }, outs: ['data/sky'] });
    const rows = await readClusterCatalog(join(dir, 'data/sky/catalog.csv'));
    if (!rows.ok) throw new Error(rows.error);
    const labelled = rows.value.filter((r) => r.logM500 !== null);
    expect(labelled.map((r) => r.id)).toEqual(['sim-0001', 'sim-0002', 'sim-0003', 'sim-0004']);
    for (const r of labelled) {
      expect(r.logM500).toBeGreaterThanOrEqual(14.8);
      expect(r.logM500).toBeLessThanOrEqual(15.0);
      expect(r.z).toBeGreaterThanOrEqual(0.2);
      expect(r.z).toBeLessThanOrEqual(0.25);
    }
    for (const r of rows.value) {
      expect(r.richness).toBeGreaterThan(0);
      expect(Number(r.extra['logM500_true'])).toBeGreaterThan(13);
    }
    const floor = JSON.parse(await readFile(join(dir, 'data/sky/floor.json'), 'utf8'));
    expect(floor).toMatchObject({ clusters: 10, labelled: 4 });
    expect(rec.metrics.find((m) => m.key === 'sim.labelled')?.value).toBe(4);
    await expect(runStageInProcess(simSky, { projectDir: dir, params: { sim: { ...sim, labelledZ: [0.3, 0.2] } }, outs: ['data/sky-bad'] }))
      .rejects.toThrow('sim: sim.labelledZ knots must not decrease: knot 1 (0.2) < knot 0 (0.3)');
  });
});

describe.skipIf(!haveSharedData)('calibration on the shipped catalogues (523 labelled clusters)', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'astro-calibrate-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('calibrate-sky gives paper.yaml\'s sim params, and that sim reproduces the real richness baseline within its fold spread', async () => {
    await runStageInProcess(buildCatalog, {
      projectDir: dir, outs: ['data/catalog'],
      params: { catalog: { redmapper: `${CATALOGS}sdss_redmapper_dr8_v5.10_subset.csv.gz`, mcxc: `${CATALOGS}mcxc.fits`, psz2: `${CATALOGS}HFI_PCCS_SZ-union_R2.08.fits` } },
    });
    // Fewer draws than the pipeline's 20,000: the same fit, a little noisier, in a few seconds.
    const rec = await runStageInProcess(calibrateSkyStage, { projectDir: dir, params: { calibrate: { draws: 4000 } }, deps: ['data/catalog'], outs: ['reports/cal'] });
    const cal = JSON.parse(await readFile(join(dir, 'reports/cal/calibration.json'), 'utf8'));
    const sim = paper.params.sim;
    expect(cal.real.clusters).toBe(523);
    expect(cal.realCv.mean).toBeCloseTo(0.157, 3); // bench/ml/richness-baseline.ts's figure
    expect(cal.sim.labelledLogM).toEqual(sim.labelledLogM);
    expect(cal.sim.labelledZ).toEqual(sim.labelledZ);
    expect(cal.richnessScatter).toBeCloseTo(sim.richnessScatter, 1);
    expect(cal.richnessSlope).toBeCloseTo(sim.richnessSlope, 1);
    expect(rec.metrics.find((m) => m.key === 'real_richness_mae_cv')?.value).toBe(cal.realCv.mean);
    // paper.yaml's sim, labelled sample only: its richness baseline against the real one's folds.
    const drawn = simulateLabelled(sim, sim.labelledLogM, { richnessPivot: sim.richnessPivot, richnessNoise: sim.richnessNoise, draws: 20000, seed: 5 });
    const simulated = sampleStats(drawn).baselineMae;
    expect(Math.abs(simulated - cal.realCv.mean)).toBeLessThan(cal.realCv.std);
    expect(Math.abs(simulated - cal.real.baselineMae)).toBeLessThan(0.004);
  });
});
