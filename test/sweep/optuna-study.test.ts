// The study process on its own (the real Optuna, through the line protocol), with the objective
// computed here: TPE reaches a known optimum's neighbourhood in fewer trials than random search
// (median over seeds, with margin), two processes share one journal-file study, and a study process
// refuses what it cannot do with a message.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStudy, type Study, type StudyOpen } from '../../src/sweep/optuna/study-child.js';
import { IN_CI, optunaVenvPython } from './optuna-env.js';
import { paretoFront } from '../../src/sweep/objective.js';

const venv = optunaVenvPython();
if (!venv.ok && IN_CI) throw new Error(venv.reason);

const SPACE = { x: { uniform: [0, 1] }, y: { uniform: [0, 1] } };
const OPTIMUM = { x: 0.7, y: 0.2 };
const RADIUS = 0.05;
const BUDGET = 100;
const SEEDS = [1, 2, 3, 4, 5];

const spec = (sampler: string, seed: number): StudyOpen => ({
  storage: ':memory:', study: `${sampler}-${seed}`, directions: ['minimize'], sampler: { name: sampler, seed, options: {} },
  pruner: null, space: SPACE, trials: BUDGET,
});

/** Trials asked until one lands within RADIUS of the optimum (BUDGET + 1 if none does). */
async function trialsToReach(study: Study): Promise<number> {
  for (let n = 1; n <= BUDGET; n++) {
    const t = (await study.ask())!;
    const d = Math.hypot(Number(t.params['x']) - OPTIMUM.x, Number(t.params['y']) - OPTIMUM.y);
    await study.tell(t.number, 'complete', [d * d]);
    if (d < RADIUS) return n;
  }
  return BUDGET + 1;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe.skipIf(!venv.ok)('the Optuna study process', () => {
  let study: Study;
  beforeAll(async () => {
    const r = await openStudy(venv.ok ? venv.python : '', spec('random', 0), process.cwd());
    if (!r.ok) throw new Error(r.error.message);
    study = r.value;
  });
  afterAll(() => study?.close());

  it('TPE reaches the optimum\'s neighbourhood in fewer trials than random search', async () => {
    const reached: Record<string, number[]> = { tpe: [], random: [] };
    for (const sampler of ['tpe', 'random'] as const) {
      for (const seed of SEEDS) {
        await (study as unknown as { request(m: object): Promise<unknown> }).request({ op: 'open', ...spec(sampler, seed) });
        reached[sampler]!.push(await trialsToReach(study));
      }
    }
    // Random search needs about 1 / (pi r^2) = 127 trials on average; TPE a few dozen.
    expect(median(reached['tpe']!) * 2, JSON.stringify(reached)).toBeLessThan(median(reached['random']!));
  }, 60_000);

  it('TPE on two objectives (one minimized, one maximized): the same seed asks the same trials, and its best trials are the Pareto front', async () => {
    const run = async () => {
      const r = await openStudy(venv.ok ? venv.python : '', { ...spec('tpe', 3), study: 'mo', directions: ['minimize', 'maximize'], trials: 16 }, process.cwd());
      if (!r.ok) throw new Error(r.error.message);
      const asked: { number: number; params: Record<string, unknown>; values: number[] }[] = [];
      for (let t = await r.value.ask(); t; t = await r.value.ask()) {
        const x = Number(t.params['x']), y = Number(t.params['y']);
        // Conflicting: the first is least at (0, 0), the second (maximized) greatest at (1, 1).
        const values = [x * x + y * y, -((x - 1) ** 2 + (y - 1) ** 2)];
        await r.value.tell(t.number, 'complete', values);
        asked.push({ number: t.number, params: t.params, values });
      }
      const best = await r.value.best();
      await r.value.close();
      return { asked, best };
    };
    const first = await run();
    const second = await run();
    expect(first.asked).toHaveLength(16);
    expect(second.asked).toEqual(first.asked);
    const on = paretoFront(first.asked.map((t) => t.values), ['min', 'max']);
    expect(first.best.map((b) => b.number).sort((a, b) => a - b)).toEqual(first.asked.filter((_, i) => on[i]).map((t) => t.number));
    expect(first.best.length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('suggests a conditional param only when its condition holds, and leaves it out of the trial otherwise', async () => {
    const space = { opt: { choice: ['sgd', 'adam'] }, momentum: { uniform: [0, 1], when: { opt: 'sgd' } }, lr: { 'log-uniform': [1e-4, 1e-1] } };
    const r = await openStudy(venv.ok ? venv.python : '', { ...spec('tpe', 2), study: 'cond', trials: 20, space }, process.cwd());
    if (!r.ok) throw new Error(r.error.message);
    const asked: Record<string, unknown>[] = [];
    for (let t = await r.value.ask(); t; t = await r.value.ask()) {
      asked.push(t.params);
      await r.value.tell(t.number, 'complete', [Number(t.params['lr']) + (t.params['opt'] === 'sgd' ? Number(t.params['momentum']) : 0.5)]);
    }
    await r.value.close();
    expect(asked).toHaveLength(20);
    expect(asked.map((p) => Object.keys(p).sort())).toEqual(asked.map((p) => (p['opt'] === 'sgd' ? ['lr', 'momentum', 'opt'] : ['lr', 'opt'])));
    expect(new Set(asked.map((p) => p['opt']))).toEqual(new Set(['sgd', 'adam']));
  }, 60_000);

  it('two processes on one journal file, opened before either asks: one seed, yet no params asked twice, and the budget shared', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'massflow-journal-'));
    const both = await Promise.all([0, 1].map(() => openStudy(venv.ok ? venv.python : '', { ...spec('random', 3), storage: `journal:${join(dir, 's.journal')}`, study: 'two', trials: 6 }, process.cwd())));
    const [a, b] = both.map((r) => { if (!r.ok) throw new Error(r.error.message); return r.value; }) as [Study, Study];
    const asked: { by: string; number: number; x: unknown }[] = [];
    for (let round = 0; round < 4; round++) {
      for (const [by, study] of [['a', a], ['b', b]] as const) {
        const t = await study.ask();
        if (!t) continue;
        asked.push({ by, number: t.number, x: t.params['x'] });
        await study.tell(t.number, 'complete', [Number(t.params['x'])]);
      }
    }
    await Promise.all([a.close(), b.close()]);
    rmSync(dir, { recursive: true, force: true });
    expect(asked.map((t) => [t.by, t.number])).toEqual([['a', 0], ['b', 1], ['a', 2], ['b', 3], ['a', 4], ['b', 5]]);
    expect(new Set(asked.map((t) => t.x)).size).toBe(6);
  }, 60_000);

  it('answers a request it cannot serve with the reason, and goes on', async () => {
    const r = await openStudy(venv.ok ? venv.python : '', { ...spec('tpe', 1), sampler: { name: 'tpe', options: { n_startup: 3 } } }, process.cwd());
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.message).toMatch(/TypeError: .*unexpected keyword argument 'n_startup'/);
  }, 30_000);
});
