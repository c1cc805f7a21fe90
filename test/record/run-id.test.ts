import { describe, expect, it } from 'vitest';
import { newRunId } from '../../src/record/run-id.js';

describe('run ids', () => {
  it('keep the documented shape and sort by start time within one second', () => {
    const a = newRunId(new Date('2026-11-24T22:10:05.004Z'));
    const b = newRunId(new Date('2026-11-24T22:10:05.990Z'));
    const c = newRunId(new Date('2026-11-24T22:10:06.000Z'));
    for (const id of [a, b, c]) expect(id).toMatch(/^\d{8}-\d{6}-[0-9a-f]{6}$/);
    expect(a.startsWith('20261124-221005-')).toBe(true);
    expect([c, b, a].sort()).toEqual([a, b, c]);
  });

  it('are strictly increasing in one process even when the clock stands still', () => {
    const t = new Date('2026-11-24T23:00:00.500Z');
    const ids = Array.from({ length: 50 }, () => newRunId(t));
    expect(new Set(ids).size).toBe(50);
    expect([...ids].sort()).toEqual(ids);
  });
});
