// An Optuna sweep on the Slurm executor: trials asked two at a time, each trial's own stage a
// batch job, the stage every trial shares submitted once, and each trial's value told to the study.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rig } from '../e2e/rig.js';
import type { SweepRecord } from '../../src/sweep/record.js';
import { IN_CI, optunaVenvPython, studyTrials } from '../sweep/optuna-env.js';
import { experiment, optunaRig } from '../sweep/optuna-fixture.js';
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
  fit.x: { uniform: [0, 1] }`, 'concurrency: 2\n') });
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
});
