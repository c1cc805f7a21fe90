// The transfer pool: at most `limit` tasks at once, at most `large.limit` of the large ones, every
// item done once, and an unreachable remote stops the rest.
import { describe, expect, it } from 'vitest';
import { forEachLimit } from '../../src/remote/pool.js';
import { RemoteError } from '../../src/remote/store.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('forEachLimit', () => {
  it('keeps large items under their own bound while small ones fill the rest', async () => {
    const items = Array.from({ length: 40 }, (_, i) => ({ i, large: i % 3 === 0 }));
    let [now, nowLarge, most, mostLarge] = [0, 0, 0, 0];
    const seen: number[] = [];
    const r = await forEachLimit(items, 6, async (it) => {
      now++; if (it.large) nowLarge++;
      [most, mostLarge] = [Math.max(most, now), Math.max(mostLarge, nowLarge)];
      await tick(); await tick();
      seen.push(it.i);
      now--; if (it.large) nowLarge--;
    }, { is: (it) => it.large, limit: 2 });
    expect(seen.sort((a, b) => a - b)).toEqual(items.map((it) => it.i));
    expect(r.done.size).toBe(40);
    expect(most).toBe(6);
    expect(mostLarge).toBe(2);
  });

  it('stops taking items once the remote is unreachable', async () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    let calls = 0;
    const r = await forEachLimit(items, 4, async () => { calls++; await tick(); throw new RemoteError('down', true); }, { is: (i) => i < 10, limit: 1 });
    expect(r.stopped?.message).toBe('down');
    expect(calls).toBeLessThanOrEqual(4);
  });
});
