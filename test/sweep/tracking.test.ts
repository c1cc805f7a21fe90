// A sweep in MLflow terms (through the tracker interface, recorded by the fake tracker): a parent
// run for the sweep, a child per trial with its params and the objective, and under each trial a
// run per stage, including the stages the trial shared with another one (tagged as such).
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
import type { Rig } from '../e2e/rig.js';
import { CommandExecutor, GRID, sweepRig } from './fixture.js';
import { objectivesOf } from '../../src/sweep/objective.js';

let rig: Rig;
afterEach(() => rig?.cleanup());

describe('sweep tracking', () => {
  it('nests trials under the sweep and stages under their trial, shared stages included', async () => {
    rig = sweepRig({ 'grid.yaml': GRID });
    process.env['COUNT_DIR'] = rig.path('count');
    const loaded = loadExperiment(rig.dir, 'experiments/grid.yaml', []);
    if (!loaded.ok) throw new Error('invalid experiment');
    const project = openProject(projectLayout(rig.dir));
    const sweepId = asRunId('20260101-000000-abcdef');
    const planned = await planSweep(project, loaded.experiment, sweepId, { force: false, fileExists: fileExistsIn(rig.dir) });
    if (!planned.ok) throw new Error('plan failed');
    const fake = new FakeTracker();
    const rejected: unknown[] = [];
    const tracking = new SweepTracking(fake, 'fake', objectivesOf(loaded.experiment.spec.objective), (e) => rejected.push(e));
    const record = await runSweep(project, planned.plan, {
      jobs: 2, gpus: undefined, keepGoing: false, force: false, concurrency: undefined, argv: [], executor: new CommandExecutor(), git: gitInfo(rig.dir),
    }, () => {}, tracking, new AbortController().signal);
    expect(record.status).toBe('succeeded');
    await tracking.close(sweepId);
    expect(rejected).toEqual([]);

    const run = (key: string) => fake.runs.get(key)!;
    expect(run('sweep')).toMatchObject({ name: 'grid', status: 'FINISHED', tags: { 'massflow.best_trial': 't001', 'massflow.sweep_id': sweepId } });
    expect(run('sweep').parentKey).toBeUndefined();
    expect(run('sweep').metrics.map((m) => [m.name, m.value])).toEqual([['best/score/loss', 0]]);

    for (const [trial, lr, loss] of [['t000', 0.1, 0.1], ['t001', 0.2, 0], ['t002', 0.4, 0.2]] as const) {
      const t = run(`trial:${trial}`);
      // Named by its point, so rows tell apart in the MLflow table (issue 21).
      expect(t).toMatchObject({ parentKey: 'sweep', name: `${trial} fit.lr=${lr}`, status: 'FINISHED', tags: { 'massflow.trial': trial, 'massflow.run_id': `${sweepId}.${trial}`, 'massflow.overrides': `fit.lr=${lr}` } });
      // Every param of the trial, flattened, so trials compare side by side.
      expect(t.params).toMatchObject({ 'fit.lr': String(lr), 'fit.fail': '0', 'prep.n': '3' });
      expect(t.metrics.filter((m) => m.name === 'score/loss').map((m) => m.value)).toEqual([loss]);
      expect(t.artifacts.map((a) => a.artifactPath)).toContain('run.json');
      for (const stage of ['prep', 'fit', 'score']) expect(run(`${trial}/stage:${stage}`).parentKey).toBe(`trial:${trial}`);
      // The stage's own metrics, and its resource use under system/ (this executor measures wall time only).
      expect(run(`${trial}/stage:score`).metrics.filter((m) => !m.name.startsWith('system/')).map((m) => [m.name, m.value])).toEqual([['loss', loss]]);
      expect(run(`${trial}/stage:score`).metrics.filter((m) => m.name.startsWith('system/')).map((m) => m.name)).toEqual(['system/wall_time_seconds']);
    }
    // prep ran once, in t000; the other trials log it too, saying where it ran.
    expect(run('t000/stage:prep').tags).toMatchObject({ 'massflow.cache': 'ran' });
    expect(run('t001/stage:prep').tags).toMatchObject({ 'massflow.cache': 'shared', 'massflow.ran_in_trial': 't000' });
    expect(run('t002/stage:fit').tags).toMatchObject({ 'massflow.cache': 'ran', 'massflow.fingerprint': planned.plan.trials[2]!.fingerprints.get('fit' as never)!.digest });
  });
});

describe('sweep tracking with several objectives', () => {
  it('puts the Pareto front on the sweep run: the trial names, each one\'s values and params, and its size', async () => {
    const fake = new FakeTracker();
    const rejected: unknown[] = [];
    const tracking = new SweepTracking(fake, 'fake', [{ metric: 'fit/final', direction: 'min' }, { metric: 'fit/far', direction: 'max' }], (e) => rejected.push(e));
    tracking.sweepStarted('pareto', {});
    const points: Record<string, Record<string, unknown>> = { t001: { 'fit.x': 0.25 }, t004: { 'fit.x': 0.5 } };
    const front = [{ trial: 't001', runId: asRunId('s.t001'), values: [0.1, 0.3] }, { trial: 't004', runId: asRunId('s.t004'), values: [0.2, 0.4] }];
    tracking.sweepEnded('succeeded', { best: null, front }, (t) => points[t]!);
    await tracking.close('s');
    expect(rejected).toEqual([]);
    const sweep = fake.runs.get('sweep')!;
    expect(sweep.status).toBe('FINISHED');
    expect(sweep.tags).toMatchObject({
      'massflow.front': 't001 t004',
      'massflow.front.t001': JSON.stringify({ values: { 'fit/final': 0.1, 'fit/far': 0.3 }, params: { 'fit.x': 0.25 } }),
      'massflow.front.t004': JSON.stringify({ values: { 'fit/final': 0.2, 'fit/far': 0.4 }, params: { 'fit.x': 0.5 } }),
    });
    expect(sweep.tags['massflow.best_trial']).toBeUndefined();
    expect(sweep.metrics.map((m) => [m.name, m.value])).toEqual([['front_size', 2]]);
  });
});
