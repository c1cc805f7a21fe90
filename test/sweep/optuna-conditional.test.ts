// A conditional param through the real CLI and the real study: `fit.shift` is only suggested when
// `fit.mode` is `shifted`. A trial with `plain` has no `fit.shift` in its params, in its sweep
// record, in its run's overrides or in the study as Optuna stores it, and its stage runs with the
// pipeline's own value; a `shifted` trial has it in all of them, and its objective shows it.
import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/record/run-record.js';
import type { SweepRecord } from '../../src/sweep/record.js';
import type { Rig } from '../e2e/rig.js';
import { sweepIds } from './fixture.js';
import { optunaCli, studyTrials } from './optuna-env.js';
import { experiment, optunaRig } from './optuna-fixture.js';

const { ok, python, env } = optunaCli();

let rig: Rig;
afterEach(() => rig?.cleanup());

describe.skipIf(!ok)('an Optuna sweep with a conditional param', () => {
  it('leaves an inactive param out of the trial: its params, records and the study', async () => {
    rig = optunaRig({ 'cond.yaml': experiment(`sampler: random
seed: 3
trials: 6
params:
  fit.mode: { choice: [plain, shifted] }
  fit.shift: { uniform: [0, 1], when: { fit.mode: shifted } }`) });
    const r = await rig.run(['sweep', 'experiments/cond.yaml', '-j', '1', '--tracking-uri', 'none'], env(rig));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const [id] = sweepIds(rig);
    const sweep = JSON.parse(rig.read(`runs/${id}/sweep.json`)) as SweepRecord;
    expect(new Set(sweep.trials.map((t) => t.point['fit.mode']))).toEqual(new Set(['plain', 'shifted']));
    const stored = studyTrials(python, `sqlite:///${rig.path('.massflow/optuna/cond.db')}`, 'cond');
    for (const [i, t] of sweep.trials.entries()) {
      const shifted = t.point['fit.mode'] === 'shifted';
      const shift = t.point['fit.shift'] as number;
      expect(Object.keys(t.point).sort(), t.name).toEqual(shifted ? ['fit.mode', 'fit.shift'] : ['fit.mode']);
      expect(stored[i]!.params).toEqual(t.point);
      const run = JSON.parse(rig.read(`runs/${id}.${t.name}/run.json`)) as RunRecord;
      expect(run.overrides.some((o) => o.startsWith('fit.shift=')), t.name).toBe(shifted);
      // At the pipeline's x = y = 0.5: 0.04 + 0.09, plus the shift when it is active.
      expect(t.objective).toBeCloseTo(0.13 + (shifted ? shift : 0), 10);
    }
    // The summary leaves the inactive param's cell empty.
    expect(r.stdout).toMatch(/\n +t00\d +succeeded +plain +\d\.\d{4}\n/);
  }, 90_000);
});
