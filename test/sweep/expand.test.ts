// Trial expansion: grid sizes and order, random search reproducible by seed and inside its
// distributions, explicit lists, ablations crossed with the sweep, names, and override strings
// that read back to the same values.
import { describe, expect, it } from 'vitest';
import { parseOverride } from '../../src/pipeline/params.js';
import { expandTrials, gridPoints, overrideString, randomPoints } from '../../src/sweep/expand.js';
import type { ExperimentSpec } from '../../src/sweep/schema.js';

const spec = (s: Partial<ExperimentSpec>): ExperimentSpec => ({ pipeline: 'pipelines/p.yaml', ...s });

describe('grid', () => {
  it('has the product of the list sizes, the last key varying fastest', () => {
    const points = gridPoints({ 'fit.lr': [1, 2, 3], 'fit.batch': [16, 32] });
    expect(points).toHaveLength(6);
    expect(points.slice(0, 3)).toEqual([
      { 'fit.lr': 1, 'fit.batch': 16 },
      { 'fit.lr': 1, 'fit.batch': 32 },
      { 'fit.lr': 2, 'fit.batch': 16 },
    ]);
    expect(gridPoints({ a: [1, 2], b: [1, 2, 3], c: [1, 2, 3, 4, 5] })).toHaveLength(30);
  });

  it('names trials t000... (wider when needed) in grid order', () => {
    const trials = expandTrials(spec({ sweep: { grid: { 'fit.lr': [0.1, 0.2, 0.3] } } }));
    expect(trials.map((t) => [t.name, t.point])).toEqual([['t000', { 'fit.lr': 0.1 }], ['t001', { 'fit.lr': 0.2 }], ['t002', { 'fit.lr': 0.3 }]]);
    const big = expandTrials(spec({ sweep: { grid: { x: Array.from({ length: 1001 }, (_, i) => i) } } }));
    expect([big[0]!.name, big[1000]!.name]).toEqual(['t0000', 't1000']);
  });
});

describe('random search', () => {
  const dists = {
    'fit.lr': { 'log-uniform': [1e-5, 1e-1] as [number, number] },
    'fit.dropout': { uniform: [0.1, 0.5] as [number, number] },
    'fit.epochs': { integer: [5, 8] as [number, number] },
    'fit.opt': { choice: ['adam', 'sgd', 'rmsprop'] },
  };

  it('draws the same trials for the same seed and different ones for another', () => {
    const a = randomPoints(7, 50, dists);
    expect(randomPoints(7, 50, dists)).toEqual(a);
    expect(randomPoints(8, 50, dists)).not.toEqual(a);
    expect(a).toHaveLength(50);
  });

  it('keeps every draw inside its distribution, rounded to 4 significant digits', () => {
    const points = randomPoints(3, 400, dists);
    for (const p of points) {
      const lr = p['fit.lr'] as number, d = p['fit.dropout'] as number, e = p['fit.epochs'] as number;
      expect(lr).toBeGreaterThanOrEqual(1e-5);
      expect(lr).toBeLessThanOrEqual(1e-1);
      expect(Number(lr.toPrecision(4))).toBe(lr);
      expect(d).toBeGreaterThanOrEqual(0.1);
      expect(d).toBeLessThanOrEqual(0.5);
      expect(Number.isInteger(e) && e >= 5 && e <= 8).toBe(true);
      expect(['adam', 'sgd', 'rmsprop']).toContain(p['fit.opt']);
    }
    // Both integer bounds are reachable, and log-uniform covers the decades evenly enough.
    expect(new Set(points.map((p) => p['fit.epochs']))).toEqual(new Set([5, 6, 7, 8]));
    const decades = new Set(points.map((p) => Math.floor(Math.log10(p['fit.lr'] as number))));
    expect(decades).toEqual(new Set([-5, -4, -3, -2]));
  });

  it('adding or reordering params keeps the other params of every trial', () => {
    const before = randomPoints(11, 20, { 'fit.lr': dists['fit.lr'] });
    const after = randomPoints(11, 20, { 'fit.opt': dists['fit.opt'], 'fit.lr': dists['fit.lr'] });
    expect(after.map((p) => p['fit.lr'])).toEqual(before.map((p) => p['fit.lr']));
    // Params draw from separate streams: two params with one distribution do not move together.
    const twin = randomPoints(11, 20, { a: dists['fit.dropout'], b: dists['fit.dropout'] });
    expect(twin.map((p) => p['a'])).not.toEqual(twin.map((p) => p['b']));
  });
});

describe('lists, ablations and names', () => {
  it('an explicit list gives one trial per entry', () => {
    const trials = expandTrials(spec({ sweep: { list: [{ 'fit.lr': 1 }, { 'fit.lr': 2, 'fit.batch': 8 }, {}] } }));
    expect(trials.map((t) => t.params)).toEqual([{ 'fit.lr': 1 }, { 'fit.lr': 2, 'fit.batch': 8 }, {}]);
  });

  it('ablations are trials beside the baseline; with a sweep, every ablation gets every point', () => {
    const ablations = {
      'r-only': { params: { 'cutout.bands': ['r'] } },
      'no-pretrain': { stages: { 'pretrain-bands': { run: 'experiments/stages/untrained.ts' } } },
    };
    const alone = expandTrials(spec({ ablations }));
    expect(alone.map((t) => [t.name, t.ablation, t.params, Object.keys(t.switches)])).toEqual([
      ['baseline', undefined, {}, []],
      ['r-only', 'r-only', { 'cutout.bands': ['r'] }, []],
      ['no-pretrain', 'no-pretrain', {}, ['pretrain-bands']],
    ]);
    expect(expandTrials(spec({ ablations, baseline: false })).map((t) => t.name)).toEqual(['r-only', 'no-pretrain']);

    const crossed = expandTrials(spec({ ablations, sweep: { grid: { 'fit.lr': [1, 2] } } }));
    expect(crossed.map((t) => t.name)).toEqual(['baseline.t000', 'baseline.t001', 'r-only.t000', 'r-only.t001', 'no-pretrain.t000', 'no-pretrain.t001']);
    expect(crossed[3]!.params).toEqual({ 'cutout.bands': ['r'], 'fit.lr': 2 });
    expect(crossed.map((t) => t.index)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('an experiment with neither sweep nor ablations is one baseline trial', () => {
    expect(expandTrials(spec({ overrides: { 'fit.lr': 1 } })).map((t) => [t.name, t.params])).toEqual([['baseline', {}]]);
  });

  it('override strings read back to the same values', () => {
    for (const v of [3e-4, 1e-7, 0, -2, 16, 'adam', 'a b: c', true, null, ['r', 'g'], { x: 1 }]) {
      const p = parseOverride(overrideString('fit.x', v));
      expect(p.ok && p.override.value).toEqual(v);
    }
  });
});
