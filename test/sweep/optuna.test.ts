// Optuna sweeps through the real CLI and the real study process: a seeded study asks the same
// trials twice (and a second study in the same project finds every trial's stages cached), a pruned
// trial stops early and commits nothing, and a sweep killed with SIGKILL resumes with no trial lost
// or counted twice.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/record/run-record.js';
import type { SweepRecord } from '../../src/sweep/record.js';
import type { Rig } from '../e2e/rig.js';
import { sweepIds } from './fixture.js';
import { optunaCli, studyCurves, studyTrials } from './optuna-env.js';
import { cached, experiment, optunaRig, pruneExperiment, QUAD } from './optuna-fixture.js';

const { ok, python, env } = optunaCli();

let rig: Rig;
afterEach(() => rig?.cleanup());

const json = <T>(r: Rig, p: string) => JSON.parse(r.read(p)) as T;
const count = (r: Rig, name: string) => { try { return readFileSync(r.path(`count/${name}`), 'utf8').length; } catch { return 0; } };
const sweepOf = (r: Rig, id: string) => json<SweepRecord>(r, `runs/${id}/sweep.json`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!ok)('massflow sweep with sweep.optuna', () => {
  it('a seeded TPE study asks the same trials twice; the second study finds every stage cached', async () => {
    const space = `sampler: tpe
seed: 11
sampler_options: { n_startup_trials: 3 }
trials: 5
params:
  fit.x: { uniform: [0, 1] }
  fit.y: { uniform: [0, 1], step: 0.05 }`;
    rig = optunaRig({ 'a.yaml': experiment(`${space}\nstudy: a`), 'b.yaml': experiment(`${space}\nstudy: b`) });
    const a = await rig.run(['sweep', 'experiments/a.yaml', '-j', '1', '--tracking-uri', 'none'], env(rig));
    expect(a.code, a.stdout + a.stderr).toBe(0);
    expect(a.stdout).toContain('5 trials succeeded, 0 failed, 0 cancelled; stages: 6 ran, 0 cached');
    expect(count(rig, 'prep')).toBe(1);
    expect(count(rig, 'fit')).toBe(5);

    const b = await rig.run(['sweep', 'experiments/b.yaml', '-j', '1', '--tracking-uri', 'none'], env(rig));
    expect(b.code, b.stdout + b.stderr).toBe(0);
    expect(b.stdout).toContain('stages: 0 ran, 6 cached');
    expect(count(rig, 'fit')).toBe(5);

    const [ra, rb] = sweepIds(rig).map((id) => sweepOf(rig, id));
    const points = (r: SweepRecord) => r.trials.map((t) => [t.name, t.point, t.objective]);
    expect(points(rb!)).toEqual(points(ra!));
    expect(ra!.trials.map((t) => t.name)).toEqual(['t000', 't001', 't002', 't003', 't004']);
    // The study is Optuna's own: its trials and values read back with Optuna.
    const stored = studyTrials(python, `sqlite:///${rig.path('.massflow/optuna/a.db')}`, 'a');
    expect(stored.map((t) => t.state)).toEqual(Array(5).fill('COMPLETE'));
    expect(stored.map((t) => t.params)).toEqual(ra!.trials.map((t) => t.point));
    expect(stored.map((t) => t.value)).toEqual(ra!.trials.map((t) => t.objective));
    expect(ra!.best).toEqual({ trial: expect.stringMatching(/^t00\d$/), runId: expect.any(String), value: Math.min(...stored.map((t) => t.value!)) });
    // Written ahead (WAL, NORMAL sync): a commit does not wait for the disk.
    const mode = spawnSync(python, ['-c', 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode").fetchone()[0])', rig.path('.massflow/optuna/a.db')], { encoding: 'utf8' });
    expect(mode.stdout.trim()).toBe('wal');
  }, 90_000);

  it('prunes a hopeless trial: its stage is stopped early, recorded as pruned, and nothing of it is cached', async () => {
    rig = optunaRig({ 'prune.yaml': pruneExperiment(20, 150) });
    const r = await rig.run(['sweep', 'experiments/prune.yaml', '-j', '1', '--tracking-uri', 'none'], env(rig));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\npruned +t001\/fit +\S+ +pruned at step 1; nothing committed\n/);
    expect(r.stdout).toContain('1 trials succeeded, 0 failed, 0 cancelled, 1 pruned');
    const [id] = sweepIds(rig);
    const sweep = sweepOf(rig, id!);
    expect(sweep.trials.map((t) => [t.name, t.point, t.status])).toEqual([['t000', { 'fit.x': 0.7 }, 'succeeded'], ['t001', { 'fit.x': 3.0 }, 'pruned']]);
    expect(sweep.best?.trial).toBe('t000');
    const pruned = json<RunRecord>(rig, `runs/${id}.t001/run.json`);
    expect(pruned.status).toBe('pruned');
    expect(pruned.stages['fit']!.outcome).toBe('pruned');
    // Stopped early: 20 epochs for the first trial, a few for the pruned one (it reported steps 0 and 1).
    expect(count(rig, 'epochs') - 20).toBeGreaterThanOrEqual(2);
    expect(count(rig, 'epochs') - 20).toBeLessThan(10);
    expect(count(rig, 'stopped')).toBe(1);
    expect(cached(rig, json<RunRecord>(rig, `runs/${id}.t000/run.json`).stages['fit']!.fingerprint)).toBe(true);
    expect(cached(rig, pruned.stages['fit']!.fingerprint)).toBe(false);
    const stored = studyTrials(python, `sqlite:///${rig.path('.massflow/optuna/prune.db')}`, 'prune');
    expect(stored.map((t) => t.state)).toEqual(['COMPLETE', 'PRUNED']);
  }, 90_000);

  it('a trial whose stage comes from the cache reports the curve its run recorded, so the pruner weighs it', async () => {
    rig = optunaRig({ 'prune.yaml': pruneExperiment(20, 150) });
    // The first trial's stages (x = 0.7) computed beforehand by a plain run with the same params.
    const pre = await rig.run(['run', 'pipelines/quad.yaml', '-p', 'fit.x=0.7', '-p', 'fit.epochs=20', '-p', 'fit.sleep=150', '--tracking-uri', 'none'], env(rig));
    expect(pre.code, pre.stdout + pre.stderr).toBe(0);
    const r = await rig.run(['sweep', 'experiments/prune.yaml', '-j', '1', '--tracking-uri', 'none'], env(rig));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const [id] = sweepIds(rig).filter((d) => rig.exists(`runs/${d}/sweep.json`));
    const sweep = sweepOf(rig, id!);
    expect(sweep.trials.map((t) => [t.name, t.point, t.status, t.stages])).toEqual([
      ['t000', { 'fit.x': 0.7 }, 'succeeded', { ran: 0, shared: 0, cached: 2 }],
      ['t001', { 'fit.x': 3.0 }, 'pruned', { ran: 0, shared: 0, cached: 1 }],
    ]);
    // Without the cached trial's curve the median pruner has nothing to compare with and lets the
    // second trial run all 20 epochs; with it, the second stops after its warm-up step.
    expect(count(rig, 'fit')).toBe(2);
    expect(count(rig, 'epochs') - 20).toBeLessThan(10);
    const FINAL = (x: number) => (x - 0.7) ** 2 + (0.5 - 0.2) ** 2;
    const curves = studyCurves(python, `sqlite:///${rig.path('.massflow/optuna/prune.db')}`, 'prune');
    expect(curves[0]).toEqual({ state: 'COMPLETE', intermediate: Object.fromEntries(Array.from({ length: 20 }, (_, e) => [String(e), FINAL(0.7) + 1 / (e + 1)])) });
    expect(curves[1]!.state).toBe('PRUNED');
    // The trial's own record holds the same curve, with its steps, as if the stage had run in it.
    const points = rig.read(`runs/${id}.t000/metrics.jsonl`).trim().split('\n').map((l) => JSON.parse(l) as { stage: string; key: string; step: number });
    expect(points.filter((p) => p.stage === 'fit' && p.key === 'loss').map((p) => p.step)).toEqual(Array.from({ length: 20 }, (_, e) => e));
  }, 90_000);

  it('a prune decision that arrives after the judged stage finished takes nothing from the trial', async () => {
    // Six epochs with no sleep end before the study answers their reports; a stage after `fit`
    // is what a late decision used to skip, leaving the trial recorded failed.
    rig = optunaRig({ 'late.yaml': pruneExperiment(6, 0) });
    rig.write('pipelines/quad.yaml', `${QUAD}  report:\n    cmd: [node, -e, "require('fs').writeFileSync('report.txt', 'ok')"]\n    deps: [metrics/fit.json]\n    outs: [report.txt]\n`);
    const r = await rig.run(['sweep', 'experiments/late.yaml', '-j', '1', '--tracking-uri', 'none'], env(rig));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const [id] = sweepIds(rig);
    const sweep = sweepOf(rig, id!);
    expect(sweep.trials.map((t) => t.status)).not.toContain('failed');
    for (const t of sweep.trials) {
      const stages = json<RunRecord>(rig, `runs/${t.runId}/run.json`).stages;
      // The decision came while `fit` ran (stopped) or was committing (nothing left to stop): the
      // trial is pruned and `report` not run. Or it came after `fit` ended: the trial completes.
      if (t.status === 'pruned') expect([['pruned', 'skipped'], ['ran', 'skipped']]).toContainEqual([stages['fit']!.outcome, stages['report']!.outcome]);
      else expect([t.status, stages['fit']!.outcome, stages['report']!.outcome]).toEqual(['succeeded', 'ran', 'ran']);
    }
  }, 90_000);

  it('resumes after SIGKILL: the trial running at death is failed and asked again, none is lost or counted twice', async () => {
    rig = optunaRig({ 'resume.yaml': experiment(`sampler: random
seed: 4
trials: 3
params:
  fit.x: { uniform: [0, 1] }`, 'overrides: { fit.epochs: 10, fit.sleep: 120 }\nconcurrency: 1\n') });
    const first = rig.spawn(['sweep', 'experiments/resume.yaml', '-j', '1', '--tracking-uri', 'none'], env(rig));
    // Killed while its second trial trains.
    const deadline = Date.now() + 40_000;
    while (!(count(rig, 'fit') === 2 && count(rig, 'epochs') >= 12) && Date.now() < deadline) await sleep(50);
    expect(count(rig, 'fit')).toBe(2);
    first.kill('SIGKILL');
    await first;
    const storage = `sqlite:///${rig.path('.massflow/optuna/resume.db')}`;
    const before = studyTrials(python, storage, 'resume');
    expect(before.map((t) => t.state)).toEqual(['COMPLETE', 'RUNNING']);

    const again = await rig.run(['sweep', 'experiments/resume.yaml', '-j', '1', '--tracking-uri', 'none'], env(rig));
    expect(again.code, again.stdout + again.stderr).toBe(0);
    const after = studyTrials(python, storage, 'resume');
    expect(after.map((t) => t.state)).toEqual(['COMPLETE', 'FAIL', 'COMPLETE', 'COMPLETE']);
    expect(after[1]!.attrs['massflow.interrupted']).toBe(true);
    expect(after[2]!.params).toEqual(before[1]!.params);
    expect(after[2]!.attrs['massflow.retry_of']).toBe(1);
    expect(after[0]).toEqual(before[0]);
    // The finished trial was not run again; the resumed sweep ran the retried trial and one new one.
    const resumed = sweepOf(rig, sweepIds(rig).at(-1)!);
    expect(resumed.trials.map((t) => [t.name, t.status])).toEqual([['t002', 'succeeded'], ['t003', 'succeeded']]);
    expect(count(rig, 'fit')).toBe(4);
    expect(count(rig, 'prep')).toBe(1);
    // compare takes the study as a whole: the trial that finished before the kill (the killed
    // sweep's record was kept current as trials ended) and the two the resumed sweep ran.
    const c = await rig.run(['compare', 'experiments/resume.yaml', '--json'], env(rig));
    expect(c.code, c.stderr).toBe(0);
    const rows = (JSON.parse(c.stdout) as { rows: { label: string; status: string }[] }).rows;
    expect(rows.map((row) => [row.label, row.status]).sort()).toEqual([['t000', 'succeeded'], ['t002', 'succeeded'], ['t003', 'succeeded']]);
  }, 90_000);
});

