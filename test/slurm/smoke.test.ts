// The smoke pipeline through real Slurm: one job per stage, dependents submitted while their
// upstream jobs are still queued, logs/metrics/outputs exactly as a local run gives them, and
// fresh stages never submitted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalize, type Rig } from '../e2e/rig.js';
import { FAST, jobsIn, requireSlurm, SLURM_UP_MS, smokeRig } from './cluster.js';

const STAGES = ['generate', 'stats', 'fit@fold=0', 'fit@fold=1', 'fit@fold=2', 'fit@fold=3', 'report'];
const OUTPUTS = ['data/smoke/raw/points.csv', 'data/smoke/stats.json', 'models/smoke/fold-0.json', 'models/smoke/fold-3.json', 'metrics/smoke.json'];

let slurm: Rig, local: Rig;
beforeAll(async () => { await requireSlurm(); slurm = smokeRig(); local = smokeRig(); }, SLURM_UP_MS);
afterAll(() => { slurm?.cleanup(); local?.cleanup(); });

const lastRun = (rig: Rig) => readdirSync(rig.path('runs')).sort().at(-1)!;

describe('smoke pipeline on Slurm', () => {
  it('runs every stage as its own job, dependents queued behind their upstream jobs', async () => {
    const run = slurm.spawn(['run', 'pipelines/smoke.yaml', '--executor', 'slurm'], FAST);
    // While it runs: some job must wait in Slurm on another (afterok), which shows the runner
    // submitted it before its upstream finished rather than waiting itself.
    const reasons = new Set<string>();
    const watch = setInterval(() => { for (const j of jobsIn(slurm.dir)) if (j.state === 'PENDING') reasons.add(j.reason); }, 150);
    const r = await run;
    clearInterval(watch);
    expect(r.exitCode, String(r.stdout) + String(r.stderr)).toBe(0);
    const out = normalize(String(r.stdout));
    expect(out).toContain('· slurm,');
    expect(out).toContain('succeeded: 7 ran, 0 restored, 0 fresh, 0 failed, 0 skipped, 0 cancelled');
    expect(reasons.has('Dependency')).toBe(true);

    const jobs = jobsIn(slurm.dir);
    expect(jobs.map((j) => j.name).sort()).toEqual(STAGES.map((s) => `massflow:${s}`).sort());
    expect(jobs.every((j) => j.state === 'COMPLETED')).toBe(true);

    // Logs, metrics and the record as a local run has them.
    const id = lastRun(slurm);
    expect(slurm.read(`runs/${id}/logs/generate.log`)).toContain('wrote 2000 points');
    expect(slurm.read(`runs/${id}/logs/stats.log`)).toContain('stats of 2000 rows written to');
    const record = JSON.parse(slurm.read(`runs/${id}/run.json`));
    expect(record.executor).toBe('slurm');
    expect(record.status).toBe('succeeded');
    expect(record.stages.generate.metrics.rows).toBe(2000);
    expect(Object.keys(record.stages['fit@fold=2'].metrics).length).toBeGreaterThan(0);
    expect(slurm.exists(`runs/${id}/slurm/generate.exit`)).toBe(true);
    // Nothing is left to re-attach to.
    expect(slurm.exists('.massflow/slurm') ? readdirSync(slurm.path('.massflow/slurm')) : []).toEqual([]);
  }, 90_000);

  it('commits the same outputs a local run commits', async () => {
    const r = await local.run(['run', 'pipelines/smoke.yaml', '--executor', 'local']);
    expect(r.code).toBe(0);
    for (const p of OUTPUTS) expect(slurm.read(p), p).toBe(local.read(p));
    const entries = (rig: Rig) => {
      const dir = rig.path('.massflow/cache/entries');
      return readdirSync(dir).flatMap((shard) => readdirSync(join(dir, shard))).sort();
    };
    // Same fingerprints, so the same cache entries: the executor does not enter the fingerprint.
    expect(entries(slurm)).toEqual(entries(local));
    expect(readFileSync(slurm.path('reports/smoke/summary.json'), 'utf8')).toBe(readFileSync(local.path('reports/smoke/summary.json'), 'utf8'));
  }, 60_000);

  it('never submits fresh stages: a rerun submits nothing, a changed param only what it touches', async () => {
    const before = jobsIn(slurm.dir).length;
    const again = await slurm.run(['run', 'pipelines/smoke.yaml', '--executor', 'slurm'], FAST);
    expect(again.code).toBe(0);
    expect(normalize(again.stdout)).toContain('succeeded: 0 ran, 0 restored, 7 fresh');
    expect(jobsIn(slurm.dir).length).toBe(before);

    // A deleted output comes back from the cache, in the runner, without a job.
    slurm.write('data/smoke/stats.json', 'clobbered');
    const lr = await slurm.run(['run', 'pipelines/smoke.yaml', '--executor', 'slurm', '-p', 'fit.lr=0.02'], FAST);
    expect(lr.code, lr.stdout + lr.stderr).toBe(0);
    expect(normalize(lr.stdout)).toContain('succeeded: 5 ran, 1 restored, 1 fresh');
    const fresh = jobsIn(slurm.dir).slice(before).map((j) => j.name).sort();
    expect(fresh).toEqual(['fit@fold=0', 'fit@fold=1', 'fit@fold=2', 'fit@fold=3', 'report'].map((s) => `massflow:${s}`));
  }, 90_000);
});
