// An Optuna sweep in MLflow terms (the tracker interface, recorded by the fake tracker; the study
// is the real Optuna process): the sweep's parent run holds the best value and the best params,
// each trial's run its state and the intermediate values it reported, with their steps.
import { afterEach, describe, expect, it } from 'vitest';
import { asRunId } from '../../src/core/brand.js';
import { openProject } from '../../src/project/open.js';
import { projectLayout } from '../../src/project/layout.js';
import { gitInfo } from '../../src/record/git-info.js';
import { FakeTracker } from '../../src/track/index.js';
import { fileExistsIn, loadExperiment } from '../../src/sweep/load.js';
import { planSweep } from '../../src/sweep/plan.js';
import { runSweep } from '../../src/sweep/run-sweep.js';
import { SweepTracking } from '../../src/sweep/tracking.js';
import { objectivesOf } from '../../src/sweep/objective.js';
import { StudySource, studyOpen } from '../../src/sweep/optuna/run-study.js';
import { openStudy } from '../../src/sweep/optuna/study-child.js';
import type { Rig } from '../e2e/rig.js';
import { CommandExecutor } from './fixture.js';
import { IN_CI, optunaVenvPython } from './optuna-env.js';
import { optunaRig, pruneExperiment } from './optuna-fixture.js';

const venv = optunaVenvPython();
if (!venv.ok && IN_CI) throw new Error(venv.reason);

/** fit's final loss at x, with y at its default 0.5 (optuna-fixture.ts). */
const FINAL = (x: number) => (x - 0.7) ** 2 + (0.5 - 0.2) ** 2;

let rig: Rig;
afterEach(() => rig?.cleanup());

describe.skipIf(!venv.ok)('Optuna sweep tracking', () => {
  it('logs the best params on the sweep, and each trial\'s state and intermediate values', async () => {
    // t000 asks x = 0.7, t001 x = 3.0, which the median pruner stops.
    rig = optunaRig({ 'prune.yaml': pruneExperiment(6, 150) });
    process.env['COUNT_DIR'] = rig.path('count');
    const loaded = loadExperiment(rig.dir, 'experiments/prune.yaml', []);
    if (!loaded.ok) throw new Error('invalid experiment');
    const exp = loaded.experiment;
    const project = openProject(projectLayout(rig.dir));
    const sweepId = asRunId('20260101-000000-abcdef');
    const planned = await planSweep(project, exp, sweepId, { force: false, fileExists: fileExistsIn(rig.dir) });
    if (!planned.ok) throw new Error('plan failed');
    const opened = await openStudy(venv.ok ? venv.python : '', studyOpen(rig.dir, exp, exp.spec.sweep!.optuna!), rig.dir);
    if (!opened.ok) throw new Error(opened.error.message);
    const fake = new FakeTracker();
    const rejected: unknown[] = [];
    const tracking = new SweepTracking(fake, 'fake', objectivesOf(exp.spec.objective), (e) => rejected.push(e));
    const source = new StudySource(project, exp, sweepId, opened.value, {
      force: false, fileExists: fileExistsIn(rig.dir), onIntermediate: (t, k, v, s) => tracking.trialIntermediate(t, k, v, s),
    });
    const record = await runSweep(project, planned.plan, {
      jobs: 1, gpus: undefined, keepGoing: false, force: false, concurrency: 1, argv: [], executor: new CommandExecutor(), git: gitInfo(rig.dir),
    }, () => {}, tracking, new AbortController().signal, source);
    await opened.value.close();
    await tracking.close(sweepId);
    expect(rejected).toEqual([]);
    expect(record.trials.map((t) => [t.name, t.status])).toEqual([['t000', 'succeeded'], ['t001', 'pruned']]);

    const run = (key: string) => fake.runs.get(key)!;
    expect(run('sweep')).toMatchObject({ status: 'FINISHED', tags: { 'massflow.best_trial': 't000', 'massflow.best.fit.x': '0.7' } });
    expect(run('sweep').metrics.map((m) => [m.name, m.value])).toEqual([['best/fit/final', FINAL(0.7)]]);
    expect(run('trial:t000')).toMatchObject({ status: 'FINISHED', tags: { 'massflow.trial_state': 'succeeded' } });
    expect(run('trial:t001')).toMatchObject({ status: 'KILLED', tags: { 'massflow.trial_state': 'pruned' } });
    const intermediate = (t: string) => run(`trial:${t}`).metrics.filter((m) => m.name === 'intermediate/fit/loss').map((m) => [m.step, m.value]);
    expect(intermediate('t000')).toEqual([0, 1, 2, 3, 4, 5].map((e) => [e, FINAL(0.7) + 1 / (e + 1)]));
    expect(intermediate('t001').slice(0, 2)).toEqual([[0, FINAL(3.0) + 1], [1, FINAL(3.0) + 1 / 2]]);
    expect(run('t001/stage:fit').status).toBe('KILLED');
  }, 60_000);
});
