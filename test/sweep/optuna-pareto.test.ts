// Several objectives through the real CLI and the real study process: NSGA-II on two conflicting
// objectives of the cheap `fit` stage (`final` and `far`, whose optima are at opposite points) asks
// the same trials twice for the same seed, and the sweep reports as its best the trials on the
// Pareto front: exactly those no other trial dominates, the same trials Optuna's best_trials gives,
// in the summary, the sweep record and `compare`.
import { afterEach, describe, expect, it } from 'vitest';
import type { SweepRecord } from '../../src/sweep/record.js';
import type { Rig } from '../e2e/rig.js';
import { sweepIds } from './fixture.js';
import { optunaCli, studyFront } from './optuna-env.js';
import { experiment, optunaRig } from './optuna-fixture.js';

const { ok, python, env } = optunaCli();

let rig: Rig;
afterEach(() => rig?.cleanup());

const sweepOf = (r: Rig, id: string) => JSON.parse(r.read(`runs/${id}/sweep.json`)) as SweepRecord;
const TWO = '\n  - { metric: fit/final, direction: min }\n  - { metric: fit/far, direction: min }';

/** Whether a dominates b when both objectives are minimized (written out here, not massflow's). */
const dominates = (a: number[], b: number[]) => a[0]! <= b[0]! && a[1]! <= b[1]! && (a[0]! < b[0]! || a[1]! < b[1]!);

describe.skipIf(!ok)('an Optuna sweep with several objectives', () => {
  it('NSGA-II: the same seed asks the same trials, and the front is the non-dominated trials, as Optuna finds them', async () => {
    const space = `sampler: nsga2
seed: 5
sampler_options: { population_size: 4 }
trials: 8
params:
  fit.x: { uniform: [0, 1] }
  fit.y: { uniform: [0, 1] }`;
    rig = optunaRig({ 'a.yaml': experiment(`${space}\nstudy: a`, '', TWO), 'b.yaml': experiment(`${space}\nstudy: b`, '', TWO) });
    const a = await rig.run(['sweep', 'experiments/a.yaml', '-j', '1', '--tracking-uri', 'none'], env(rig));
    expect(a.code, a.stdout + a.stderr).toBe(0);
    // NSGA-II's crossover asks t007 with t000's params: it shares t000's stage (prep once, 7 fits).
    expect(a.stdout).toContain('8 trials succeeded, 0 failed, 0 cancelled; stages: 8 ran, 0 cached');
    expect(a.stdout).toMatch(/\ntrial +t000 +succeeded +fit\/final = \d\.\d{4}, fit\/far = \d\.\d{4}\n/);
    expect(a.stdout).toMatch(/\n +trial +status +fit\.x +fit\.y +fit\/final \(min\) +fit\/far \(min\) +front\n/);

    const b = await rig.run(['sweep', 'experiments/b.yaml', '-j', '1', '--tracking-uri', 'none'], env(rig));
    expect(b.code, b.stdout + b.stderr).toBe(0);
    expect(b.stdout).toContain('stages: 0 ran, 8 cached');
    const [ra, rb] = sweepIds(rig).map((id) => sweepOf(rig, id));
    const trials = (r: SweepRecord) => r.trials.map((t) => [t.name, t.point, t.values]);
    expect(trials(rb!)).toEqual(trials(ra!));
    const frontOf = (r: SweepRecord) => r.front!.map((f) => [f.trial, f.values]);
    expect(frontOf(rb!)).toEqual(frontOf(ra!));

    // The front, worked out here from the trials' values: none of its trials is dominated, every
    // other trial is dominated by one of them.
    const values = new Map(ra!.trials.map((t) => [t.name, t.values as number[]]));
    const front = ra!.front!.map((f) => f.trial);
    expect(front.length).toBeGreaterThanOrEqual(2);
    expect(ra!.best).toBeNull();
    for (const f of front) expect([...values.values()].some((v) => dominates(v, values.get(f)!)), f).toBe(false);
    for (const [name, v] of values) if (!front.includes(name)) expect(front.some((f) => dominates(values.get(f)!, v)), name).toBe(true);
    expect(ra!.front!.map((f) => f.values)).toEqual(front.map((f) => values.get(f)));
    expect(a.stdout).toContain(`Pareto front: ${front.join(', ')} (${front.length} of 8 trials: those no other trial dominates)`);

    // Optuna stores the same trials and values, and its best trials are the same front.
    const stored = studyFront(python, `sqlite:///${rig.path('.massflow/optuna/a.db')}`, 'a');
    expect(stored.trials.map((t) => [`t00${t.number}`, t.state, t.params, t.values])).toEqual(ra!.trials.map((t) => [t.name, 'COMPLETE', t.point, t.values]));
    expect(stored.best.map((n) => `t00${n}`)).toEqual([...front].sort());

    // compare takes the study as a whole and marks the same front.
    const c = await rig.run(['compare', 'experiments/a.yaml', '--json'], env(rig));
    expect(c.code, c.stderr).toBe(0);
    const rows = (JSON.parse(c.stdout) as { rows: { label: string; front: boolean; values: number[] }[] }).rows;
    expect(rows.filter((r) => r.front).map((r) => r.label).sort()).toEqual([...front].sort());
    expect(rows.slice(0, front.length).every((r) => r.front)).toBe(true);
    const text = await rig.run(['compare', 'experiments/a.yaml'], env(rig));
    expect(text.stdout.split('\n')[0]).toMatch(/^run +status +fit\.x +fit\.y +fit\/final \(min\) +fit\/far \(min\) .*front$/);
    expect(text.stdout.split('\n').filter((l) => / \*$/.test(l)).length).toBe(front.length);
  }, 120_000);
});
