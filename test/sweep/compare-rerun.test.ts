// `massflow compare` (table, JSON, PNG plot) and `massflow rerun` (every output digest matches for a
// deterministic run, a nondeterministic stage and what depends on it do not, drift is refused or
// warned about) through the real CLI.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/record/run-record.js';
import { normalize, type Rig } from '../e2e/rig.js';
import { env, executions, GRID, STEP, sweepIds, sweepRig } from './fixture.js';

let rig: Rig;
afterEach(() => rig?.cleanup());

const runIds = (r: Rig) => sweepIds(r);

describe('massflow compare', () => {
  it('tables the differing params and metrics ranked by the objective, as text, JSON and a plot', async () => {
    rig = sweepRig({ 'grid.yaml': GRID });
    expect((await rig.run(['sweep', 'experiments/grid.yaml', '-j', '2'], env(rig))).code).toBe(0);
    const [id] = sweepIds(rig);

    const text = await rig.run(['compare', 'experiments/grid.yaml']);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe([
      'run   status     fit.lr  score/loss (min)',
      't001  succeeded  0.2     0',
      't000  succeeded  0.1     0.1000',
      't002  succeeded  0.4     0.2000',
      '',
    ].join('\n'));

    const js = await rig.run(['compare', id!, '--json']);
    const c = JSON.parse(js.stdout) as { differing: string[]; rows: { label: string; objective: number; params: Record<string, unknown>; metrics: Record<string, number> }[] };
    expect(c.differing).toEqual(['fit.lr']);
    expect(c.rows.map((r) => [r.label, r.objective, r.params['fit.lr'], r.metrics['score/loss']])).toEqual([['t001', 0, 0.2, 0], ['t000', 0.1, 0.1, 0.1], ['t002', 0.2, 0.4, 0.2]]);

    // Two single runs, ranked by a metric named on the command line.
    const two = await rig.run(['compare', `${id}.t002`, `${id}.t000`, '--objective', 'score/loss', '--direction', 'max']);
    expect(normalize(two.stdout).split('\n').slice(0, 3).map((l) => l.split(/\s{2,}/))).toEqual([
      ['run', 'status', 'fit.lr', 'score/loss (max)'],
      ['RUNID.t002', 'succeeded', '0.4', '0.2000'],
      ['RUNID.t000', 'succeeded', '0.1', '0.1000'],
    ]);

    const plot = await rig.run(['compare', 'experiments/grid.yaml', '--plot', 'lr.png']);
    expect(plot.code).toBe(0);
    expect(plot.stdout).toContain('plot: lr.png\n');
    const png = readFileSync(rig.path('lr.png'));
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.readUInt32BE(16)).toBeGreaterThan(200); // width from the IHDR chunk: a real chart

    const unknown = await rig.run(['compare', 'nope']);
    expect([unknown.code, unknown.stderr]).toEqual([2, "error: no run, sweep or experiment named 'nope' (run ids are the names under runs/)\n"]);
  });
});

describe('massflow rerun', () => {
  it('replays a trial in a fresh workspace, re-executing every stage, and finds every digest equal', async () => {
    rig = sweepRig({ 'grid.yaml': GRID });
    expect((await rig.run(['sweep', 'experiments/grid.yaml', '-j', '2'], env(rig))).code).toBe(0);
    const [id] = sweepIds(rig);
    const before = executions(rig);
    const r = await rig.run(['rerun', `${id}.t002`, '-j', '1'], env(rig));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = normalize(r.stdout);
    expect(out).toContain('rerun of RUNID.t002 (pipelines/tiny.yaml, trial t002 of sweep RUNID) in .massflow/reruns/RUNID\n');
    expect(out).toContain('start     fit               forced\n');
    expect(out.slice(out.indexOf('outputs against'))).toMatch(new RegExp([
      'outputs against run RUNID.t002:',
      '  stage  output              recorded      now           verdict',
      '  prep   data/prep.txt       ([0-9a-f]{12})  \\1  match',
      '  fit    models/fit.txt      ([0-9a-f]{12})  \\2  match',
      '  score  metrics/score.json  ([0-9a-f]{12})  \\3  match',
      '  score  reports/score.txt   ([0-9a-f]{12})  \\4  match',
      'reproduced: 4 of 4 outputs match the record · rerun RUNID',
      '',
    ].join('\n')));
    // Forced: each stage executed again, once.
    expect(executions(rig)).toEqual({ fit: before['fit']! + 1, prep: before['prep']! + 1, score: before['score']! + 1 });
    const rerunId = runIds(rig).find((d) => !d.startsWith(id!))!;
    const rec = JSON.parse(rig.read(`runs/${rerunId}/run.json`)) as RunRecord;
    expect(rec.rerunOf).toBe(`${id}.t002`);
    expect(rec.overrides).toEqual(['fit.lr=0.4']);
    expect(rig.read(`.massflow/reruns/${rerunId}/models/fit.txt`)).toBe('fit lr=0.4 <- prep n=3\n');
  });

  it('reports the outputs of a nondeterministic stage, and what depends on them, as differing (exit 1)', async () => {
    rig = sweepRig({});
    const run = await rig.run(['run', 'pipelines/tiny.yaml', '-p', 'fit.noise=1', '-j', '1'], env(rig));
    expect(run.code).toBe(0);
    const [id] = runIds(rig);
    const r = await rig.run(['rerun', id!, '-j', '1'], env(rig));
    expect(r.code).toBe(1);
    const verdicts = normalize(r.stdout).split('\n').filter((l) => /  (match|differs)$/.test(l)).map((l) => l.trim().split(/\s+/).filter((_, i) => i !== 2 && i !== 3));
    expect(verdicts).toEqual([
      ['prep', 'data/prep.txt', 'match'],
      ['fit', 'models/fit.txt', 'differs'],
      ['score', 'metrics/score.json', 'match'],
      ['score', 'reports/score.txt', 'differs'],
    ]);
    expect(normalize(r.stdout)).toContain('not reproduced: 2 of 4 outputs match the record');
  });

  it('refuses a replay when the code changed since the record, and warns with --allow-drift', async () => {
    rig = sweepRig({});
    expect((await rig.run(['run', 'pipelines/tiny.yaml', '-j', '1'], env(rig))).code).toBe(0);
    const [id] = runIds(rig);
    rig.write('step.mjs', STEP + '// edited\n');
    const refused = await rig.run(['rerun', id!], env(rig));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe([
      `error: the project drifted from run ${id}; a replay would not test the recorded computation:`,
      '  code differs from the record for prep, fit, score (the stage modules, the sources they import, or the command)',
      '(--allow-drift replays it anyway)',
      '',
    ].join('\n'));
    const before = executions(rig);
    const allowed = await rig.run(['rerun', id!, '--allow-drift', '-j', '1'], env(rig));
    expect(allowed.stderr).toBe('warning: code differs from the record for prep, fit, score (the stage modules, the sources they import, or the command)\n');
    expect(allowed.code).toBe(0); // the edit is a comment: outputs are the same
    expect(allowed.stdout).toContain('reproduced: 4 of 4 outputs match the record');
    expect(executions(rig)['fit']).toBe(before['fit']! + 1);

    const none = await rig.run(['rerun', 'nope']);
    expect([none.code, none.stderr]).toEqual([2, "error: no run 'nope' in runs/\n"]);
  });
});
