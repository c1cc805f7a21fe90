// The study process on its own (the real Optuna, through the line protocol), with the objective
// computed here: TPE reaches a known optimum's neighbourhood in fewer trials than random search
// (median over seeds, with margin), and a study process refuses what it cannot do with a message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStudy, type Study, type StudyOpen } from '../../src/sweep/optuna/study-child.js';
import { IN_CI, optunaVenvPython } from './optuna-env.js';

const venv = optunaVenvPython();
if (!venv.ok && IN_CI) throw new Error(venv.reason);

const SPACE = { x: { uniform: [0, 1] }, y: { uniform: [0, 1] } };
const OPTIMUM = { x: 0.7, y: 0.2 };
const RADIUS = 0.05;
const BUDGET = 100;
const SEEDS = [1, 2, 3, 4, 5];

const spec = (sampler: string, seed: number): StudyOpen => ({
  storage: ':memory:', study: `${sampler}-${seed}`, direction: 'minimize', sampler: { name: sampler, seed, options: {} },
  pruner: null, space: SPACE, trials: BUDGET,
});

/** Trials asked until one lands within RADIUS of the optimum (BUDGET + 1 if none does). */
async function trialsToReach(study: Study): Promise<number> {
  for (let n = 1; n <= BUDGET; n++) {
    const t = (await study.ask())!;
    const d = Math.hypot(Number(t.params['x']) - OPTIMUM.x, Number(t.params['y']) - OPTIMUM.y);
    await study.tell(t.number, 'complete', d * d);
    if (d < RADIUS) return n;
  }
  return BUDGET + 1;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe.skipIf(!venv.ok)('the Optuna study process', () => {
  let study: Study;
  beforeAll(async () => {
    const r = await openStudy(venv.ok ? venv.python : '', spec('random', 0), process.cwd());
    if (!r.ok) throw new Error(r.error);
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

  it('answers a request it cannot serve with the reason, and goes on', async () => {
    const r = await openStudy(venv.ok ? venv.python : '', { ...spec('tpe', 1), sampler: { name: 'tpe', options: { n_startup: 3 } } }, process.cwd());
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/TypeError: .*unexpected keyword argument 'n_startup'/);
  }, 30_000);
});
