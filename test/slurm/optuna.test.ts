// An Optuna sweep on the Slurm executor: trials asked two at a time, each trial's own stage a
// batch job, the stage every trial shares submitted once, and each trial's value told to the study;
// and a pruned trial's job, whose streamed curve reached the pruner, cancelled with scancel.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rig } from '../e2e/rig.js';
import type { SweepRecord } from '../../src/sweep/record.js';
import type { RunRecord } from '../../src/record/run-record.js';
import { IN_CI, optunaVenvPython, studyTrials } from '../sweep/optuna-env.js';
import { cached, experiment, optunaRig, pruneExperiment } from '../sweep/optuna-fixture.js';
import { sweepIds } from '../sweep/fixture.js';
import { FAST, jobsIn, requireSlurm, SLURM_UP_MS } from './cluster.js';

const venv = optunaVenvPython();
if (!venv.ok && IN_CI) throw new Error(venv.reason);

let rig: Rig;
beforeAll(async () => {
  await requireSlurm();
  rig = optunaRig({ 'tpe.yaml': experiment(`sampler: tpe
seed: 2
trials: 3
params:
  fit.x: { uniform: [0, 1] }`, 'concurrency: 2\n'), 'prune.yaml': pruneExperiment(20, 150) });
}, SLURM_UP_MS);
afterAll(() => rig?.cleanup());

describe.skipIf(!venv.ok)('an Optuna sweep on Slurm', () => {
  it('runs each trial\'s stage as a job, the shared stage once, and tells the study every value', async () => {
    const python = venv.ok ? venv.python : '';
    const r = await rig.run(['sweep', 'experiments/tpe.yaml', '--executor', 'slurm', '-j', '2', '--tracking-uri', 'none'],
      { ...FAST, COUNT_DIR: rig.path('count'), MASSFLOW_OPTUNA_PYTHON: python });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('3 trials succeeded, 0 failed, 0 cancelled; stages: 4 ran, 0 cached');
    const byName: Record<string, number> = {};
    for (const j of jobsIn(rig.dir, true)) byName[j.name] = (byName[j.name] ?? 0) + 1;
    expect(byName).toEqual({ 'massflow:prep': 1, 'massflow:fit': 3 });
    expect(readFileSync(rig.path('count/fit'), 'utf8')).toBe('xxx');
    const sweep = JSON.parse(rig.read(`runs/${sweepIds(rig)[0]}/sweep.json`)) as SweepRecord;
    const stored = studyTrials(python, `sqlite:///${rig.path('.massflow/optuna/tpe.db')}`, 'tpe');
    expect(stored.map((t) => [t.state, t.value])).toEqual(sweep.trials.map((t) => ['COMPLETE', t.objective]));
  }, 120_000);

  it('prunes on Slurm: the streamed curve reaches the pruner, the job is cancelled, nothing of it is cached', async () => {
    const python = venv.ok ? venv.python : '';
    const epochsBefore = readFileSync(rig.path('count/epochs'), 'utf8').length;
    const r = await rig.run(['sweep', 'experiments/prune.yaml', '--executor', 'slurm', '-j', '1', '--tracking-uri', 'none'],
      { ...FAST, COUNT_DIR: rig.path('count'), MASSFLOW_OPTUNA_PYTHON: python });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\npruned +t001\/fit +\S+ +pruned at step 1; nothing committed\n/);
    expect(r.stdout).toContain('1 trials succeeded, 0 failed, 0 cancelled, 1 pruned');
    const id = sweepIds(rig).at(-1)!;
    const sweep = JSON.parse(rig.read(`runs/${id}/sweep.json`)) as SweepRecord;
    expect(sweep.trials.map((t) => [t.name, t.point, t.status])).toEqual([['t000', { 'fit.x': 0.7 }, 'succeeded'], ['t001', { 'fit.x': 3.0 }, 'pruned']]);
    const pruned = JSON.parse(rig.read(`runs/${id}.t001/run.json`)) as RunRecord;
    expect(pruned.status).toBe('pruned');
    expect(pruned.stages['fit']!.outcome).toBe('pruned');
    // The pruned trial's fit job was cancelled by scancel, whose SIGTERM the stage received, not left to finish its 20 epochs.
    const fits = jobsIn(rig.dir, true).filter((j) => j.name === 'massflow:fit' && j.workDir.includes(`/${id}/`));
    expect(fits.map((j) => j.state)).toEqual(['COMPLETED', 'CANCELLED']);
    expect(readFileSync(rig.path('count/stopped'), 'utf8')).toBe('x');
    const epochs = readFileSync(rig.path('count/epochs'), 'utf8').length - epochsBefore - 20;
    expect(epochs).toBeGreaterThanOrEqual(2);
    expect(epochs).toBeLessThan(15);
    // Nothing of the pruned stage is cached; the finished trial's stage is.
    expect(cached(rig, (JSON.parse(rig.read(`runs/${id}.t000/run.json`)) as RunRecord).stages['fit']!.fingerprint!)).toBe(true);
    expect(cached(rig, pruned.stages['fit']!.fingerprint!)).toBe(false);
    const stored = studyTrials(python, `sqlite:///${rig.path('.massflow/optuna/prune.db')}`, 'prune');
    expect(stored.map((t) => t.state)).toEqual(['COMPLETE', 'PRUNED']);
  }, 120_000);
});
