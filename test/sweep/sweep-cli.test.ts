// Sweeps through the real CLI: a stage shared by every trial runs once (counted by the stage
// itself), trials write the same out paths in their own workspaces, records say what happened,
// a failing trial fails alone, and the second sweep finds everything cached.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/record/run-record.js';
import type { SweepRecord } from '../../src/sweep/record.js';
import { normalize, type Rig } from '../e2e/rig.js';
import { env, executions, GRID, sweepIds, sweepRig } from './fixture.js';

let rig: Rig;
afterEach(() => rig?.cleanup());

const json = <T>(r: Rig, p: string) => JSON.parse(r.read(p)) as T;

describe('massflow sweep', () => {
  it('runs shared stages once, isolates trials, ranks them, and finds everything cached the second time', async () => {
    rig = sweepRig({ 'grid.yaml': GRID });
    const dry = await rig.run(['sweep', 'experiments/grid.yaml', '--dry-run'], env(rig));
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('3 trials, 9 stage instances, 7 distinct: 7 to run, 0 cached; sharing saves 2 runs');
    expect(executions(rig)).toEqual({});

    const r = await rig.run(['sweep', 'experiments/grid.yaml', '-j', '1'], env(rig));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = normalize(r.stdout).split('\n');
    expect(lines[0]).toBe('massflow sweep RUNID · grid on pipelines/tiny.yaml · 3 trials · stages: 7 to run, 2 shared, 0 cached · local, jobs N');
    // Units start and end in dependency order; with stages waiting on the job slot, the exact
    // interleaving of one unit's end and the next one's start depends on I/O timing.
    const events = lines.slice(1, 18);
    expect([...events].sort()).toEqual([
      'ran       t000/fit                    Ns',
      'ran       t000/prep                   Ns  (shared by 2 more trials)',
      'ran       t000/score                  Ns',
      'ran       t001/fit                    Ns',
      'ran       t001/score                  Ns',
      'ran       t002/fit                    Ns',
      'ran       t002/score                  Ns',
      'start     t000/fit                    never run',
      'start     t000/prep                   never run',
      'start     t000/score                  never run',
      'start     t001/fit                    never run',
      'start     t001/score                  never run',
      'start     t002/fit                    never run',
      'start     t002/score                  never run',
      'trial     t000                        succeeded  score/loss = 0.1000',
      'trial     t001                        succeeded  score/loss = 0',
      'trial     t002                        succeeded  score/loss = 0.2000',
    ]);
    const at = (l: string) => events.findIndex((e) => e.startsWith(l));
    for (const t of ['t000', 't001', 't002']) {
      expect(at('ran       t000/prep')).toBeLessThan(at(`start     ${t}/fit`));
      expect(at(`ran       ${t}/fit`)).toBeLessThan(at(`start     ${t}/score`));
      expect(at(`ran       ${t}/score`)).toBeLessThan(at(`trial     ${t}`));
    }
    expect(lines.slice(18)).toEqual([
      '  trial  status     fit.lr  score/loss (min)',
      '  t001   succeeded  0.2     0',
      '  t000   succeeded  0.1     0.1000',
      '  t002   succeeded  0.4     0.2000',
      'best: t001 (score/loss = 0) · run RUNID.t001 · massflow rerun RUNID.t001',
      'succeeded: 3 trials succeeded, 0 failed, 0 cancelled; stages: 7 ran, 0 cached, 0 failed, 0 skipped of 7 distinct in Ns',
      'records: runs/RUNID/sweep.json · trial workspaces: .massflow/sweeps/RUNID',
      'tracking: offline (runs kept under runs/, push later with `massflow sync`)',
      '',
    ]);
    // prep is the same in every trial: it executed once; fit and score once per trial.
    expect(executions(rig)).toEqual({ fit: 3, prep: 1, score: 3 });

    // Each trial wrote models/fit.txt in its own workspace; the project's own stayed untouched.
    const [id] = sweepIds(rig);
    const ws = (trial: string, p: string) => rig.read(`.massflow/sweeps/${id}/${trial}/${p}`);
    expect(['t000', 't001', 't002'].map((t) => ws(t, 'models/fit.txt'))).toEqual([
      'fit lr=0.1 <- prep n=3\n', 'fit lr=0.2 <- prep n=3\n', 'fit lr=0.4 <- prep n=3\n',
    ]);
    expect(ws('t002', 'reports/score.txt')).toBe('score <- fit lr=0.4 <- prep n=3\n');
    expect(rig.exists('models/fit.txt') || rig.exists('data/prep.txt')).toBe(false);

    const sweep = json<SweepRecord>(rig, `runs/${id}/sweep.json`);
    expect(sweep).toMatchObject({ kind: 'sweep', status: 'succeeded', swept: ['fit.lr'], objective: { metric: 'score/loss', direction: 'min' } });
    expect(sweep.trials.map((t) => [t.name, t.status, t.objective, t.overrides, t.stages])).toEqual([
      ['t000', 'succeeded', 0.1, ['fit.lr=0.1'], { ran: 3, shared: 0, cached: 0 }],
      ['t001', 'succeeded', 0, ['fit.lr=0.2'], { ran: 2, shared: 1, cached: 0 }],
      ['t002', 'succeeded', 0.2, ['fit.lr=0.4'], { ran: 2, shared: 1, cached: 0 }],
    ]);
    expect(sweep.best).toEqual({ trial: 't001', runId: `${id}.t001`, value: 0 });
    expect(sweep.units).toEqual({ total: 7, ran: 7, cached: 0, failed: 0, skipped: 0, cancelled: 0, pruned: 0 });

    // One run record per trial, pointing back at the sweep; a shared stage says where it ran.
    const t1 = json<RunRecord>(rig, `runs/${id}.t001/run.json`);
    expect(t1.sweep).toEqual({ id, trial: 't001' });
    expect(t1.status).toBe('succeeded');
    expect(t1.overrides).toEqual(['fit.lr=0.2']);
    expect((t1.params as { fit: unknown }).fit).toEqual({ lr: 0.2, fail: 0, noise: 0 });
    expect(t1.stages['prep']).toMatchObject({ outcome: 'fresh', reason: 'shared: ran in trial t000' });
    expect(t1.stages['fit']).toMatchObject({ outcome: 'ran', reason: 'never run' });
    expect(t1.stages['score']!.metrics).toEqual({ loss: 0 });
    expect(t1.stages['prep']!.outputs['data/prep.txt']!.digest).toBe(json<RunRecord>(rig, `runs/${id}.t000/run.json`).stages['prep']!.outputs['data/prep.txt']!.digest);

    // `massflow run` takes the experiment too; everything is cached now and nothing executes.
    const again = await rig.run(['run', 'experiments/grid.yaml', '-j', '1'], env(rig));
    expect(again.code).toBe(0);
    expect(normalize(again.stdout)).toContain('3 trials · stages: 0 to run, 0 shared, 7 cached');
    expect(normalize(again.stdout)).toContain('best: t001 (score/loss = 0)');
    expect(executions(rig)).toEqual({ fit: 3, prep: 1, score: 3 });
    const second = json<SweepRecord>(rig, `runs/${sweepIds(rig)[1]}/sweep.json`);
    expect(second.trials.map((t) => [t.objective, t.stages])).toEqual([
      [0.1, { ran: 0, shared: 0, cached: 3 }], [0, { ran: 0, shared: 0, cached: 3 }], [0.2, { ran: 0, shared: 0, cached: 3 }],
    ]);
  });

  it('a failing trial fails alone: its dependents are skipped, the other trials finish and rank', async () => {
    rig = sweepRig({ 'list.yaml': `pipeline: pipelines/tiny.yaml
sweep:
  list:
    - { fit.lr: 0.1 }
    - { fit.lr: 0.2, fit.fail: 1 }
    - { fit.lr: 0.4 }
objective: { metric: score/loss, direction: min }
concurrency: 1
` });
    const r = await rig.run(['sweep', 'experiments/list.yaml', '-j', '2'], env(rig));
    expect(r.code).toBe(1);
    const out = normalize(r.stdout);
    expect(out).toContain('FAILED    t001/fit                    Ns  exited with code 3\n  | fit: failing on purpose\n');
    expect(out).toContain('skipped   t001/score                  upstream fit failed\n');
    expect(out).toContain('trial     t001                        failed\n');
    expect(out).toContain('best: t000 (score/loss = 0.1000)');
    expect(out).toContain('failed: 2 trials succeeded, 1 failed, 0 cancelled; stages: 5 ran, 0 cached, 1 failed, 1 skipped of 7 distinct');
    expect(executions(rig)).toEqual({ fit: 3, prep: 1, score: 2 });
    // concurrency: 1 admits one trial at a time, in order.
    expect(out.indexOf('trial     t000')).toBeLessThan(out.indexOf('start     t001/fit'));
    expect(out.indexOf('trial     t001')).toBeLessThan(out.indexOf('start     t002/fit'));
    const [id] = sweepIds(rig);
    const sweep = json<SweepRecord>(rig, `runs/${id}/sweep.json`);
    expect(sweep.trials.map((t) => [t.name, t.status, t.objective])).toEqual([['t000', 'succeeded', 0.1], ['t001', 'failed', null], ['t002', 'succeeded', 0.2]]);
    const failed = json<RunRecord>(rig, `runs/${id}.t001/run.json`);
    expect(failed.status).toBe('failed');
    expect(failed.stages['fit']).toMatchObject({ outcome: 'failed', failure: { kind: 'exit', code: 3 } });
    expect(failed.stages['score']).toMatchObject({ outcome: 'skipped', skipped: { kind: 'upstream-failed', upstream: 'fit' } });
    expect(existsSync(join(rig.path(`runs/${id}.t001/logs`), 'fit.log'))).toBe(true);
    expect(readFileSync(join(rig.path(`runs/${id}.t001/logs`), 'fit.log'), 'utf8')).toContain('failing on purpose');
  });

  it('user mistakes exit 2 with a located message, before anything runs', async () => {
    rig = sweepRig({ 'bad.yaml': 'pipeline: pipelines/tiny.yaml\nsweep:\n  grid: { fit.lrr: [1, 2] }\n' });
    const bad = await rig.run(['sweep', 'experiments/bad.yaml'], env(rig));
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe([
      "experiments/bad.yaml:3:11 error: unknown param 'fit.lrr' in pipelines/tiny.yaml (did you mean 'fit.lr'?)",
      '  3 |   grid: { fit.lrr: [1, 2] }',
      '    |           ~~~~~~~',
      '1 error',
      '',
    ].join('\n'));
    const missing = await rig.run(['sweep', 'experiments/none.yaml'], env(rig));
    expect([missing.code, missing.stderr]).toEqual([2, "error: cannot read experiment file 'experiments/none.yaml'\n1 error\n"]);
    const stages = await rig.run(['run', 'experiments/bad.yaml', 'fit'], env(rig));
    expect([stages.code, stages.stderr]).toEqual([2, 'error: an experiment runs whole trials; stage names (fit) cannot follow experiments/bad.yaml\n']);
    expect(executions(rig)).toEqual({});
  });
});
