// The Pareto front of several objectives, as the sweep record, its view and compare mark it.
import { describe, expect, it } from 'vitest';
import { objectivesOf, paretoFront } from '../../src/sweep/objective.js';

describe('paretoFront', () => {
  it('keeps the runs no other run dominates, each objective in its own direction', () => {
    // min a, max b: (1, 1) is dominated by (1, 2); (0, 0) and (2, 3) trade off against (1, 2).
    expect(paretoFront([[1, 2], [1, 1], [0, 0], [2, 3], [3, 3]], ['min', 'max'])).toEqual([true, false, true, true, false]);
  });

  it('keeps equal runs together, and leaves out a run that did not report every objective', () => {
    expect(paretoFront([[1, 1], [1, 1], [0, null], [], [2, 0]], ['min', 'min'])).toEqual([true, true, false, false, true]);
  });

  it('reads one objective or a list', () => {
    const o = { metric: 'fit/loss', direction: 'min' as const };
    expect(objectivesOf(o)).toEqual([o]);
    expect(objectivesOf([o, { metric: 'fit/time', direction: 'min' }])).toHaveLength(2);
    expect(objectivesOf(undefined)).toEqual([]);
  });
});
