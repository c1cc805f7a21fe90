// Several machines on one study: two `massflow sweep` processes, each in its own clone of the
// project, share one Optuna journal file and finish the study's budget together, with every trial
// run by exactly one of them, none lost, none past the budget, and no params asked twice.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SweepRecord } from '../../src/sweep/record.js';
import type { Rig } from '../e2e/rig.js';
import { sweepIds } from './fixture.js';
import { optunaCli, studyTrials } from './optuna-env.js';
import { experiment, optunaRig } from './optuna-fixture.js';

const { ok, python, env } = optunaCli();

const rigs: Rig[] = [];
let shared = '';
afterEach(() => {
  for (const r of rigs.splice(0)) r.cleanup();
  if (shared) rmSync(shared, { recursive: true, force: true });
});

describe.skipIf(!ok)('two sweeps on one journal-file study', () => {
  it('finish its budget together: each trial run once, none lost, none past the budget, no params asked twice', async () => {
    shared = mkdtempSync(join(tmpdir(), 'massflow-journal-'));
    const journal = join(shared, 'study.journal');
    // One seed in both clones: the second process must not ask the first one's params again.
    const text = experiment(`sampler: random
seed: 3
trials: 10
study: shared
storage: ${journal}
params:
  fit.x: { uniform: [0, 1] }`, 'overrides: { fit.epochs: 6, fit.sleep: 150 }\nconcurrency: 2\n');
    for (let i = 0; i < 2; i++) rigs.push(optunaRig({ 'j.yaml': text }));
    const runs = await Promise.all(rigs.map((r) => r.run(['sweep', 'experiments/j.yaml', '-j', '2', '--tracking-uri', 'none'], env(r))));
    for (const r of runs) expect(r.code, r.stdout + r.stderr).toBe(0);

    const stored = studyTrials(python, `journal:${journal}`, 'shared');
    const counted = stored.filter((t) => !t.attrs['massflow.surplus']);
    expect(counted.map((t) => t.state)).toEqual(Array(10).fill('COMPLETE'));
    // A surplus trial (asked by both at once past the budget) ran nothing and is failed, not counted.
    for (const t of stored.filter((t) => t.attrs['massflow.surplus'])) expect(t.state).toBe('FAIL');

    const ran = rigs.map((r) => (JSON.parse(r.read(`runs/${sweepIds(r)[0]}/sweep.json`)) as SweepRecord).trials);
    for (const trials of ran) expect(trials.length).toBeGreaterThan(0);
    const names = ran.flat().map((t) => t.name).sort();
    expect(names).toEqual(counted.map((t) => `t${String(t.number).padStart(3, '0')}`).sort());
    // Each sweep's record holds the value the study was told for that trial.
    const byName = new Map(ran.flat().map((t) => [t.name, t]));
    for (const t of counted) expect(byName.get(`t${String(t.number).padStart(3, '0')}`)?.objective).toBe(t.value);
    expect(new Set(counted.map((t) => t.params['fit.x'])).size).toBe(10);
  }, 90_000);
});
