// Reconciling an unanswered metric write, on its own: which points are already on the server.
import { describe, expect, it } from 'vitest';
import type { OutboxEntry } from '../../src/track/outbox.js';
import { alreadyOnServer, type MetricOp } from '../../src/track/reconcile.js';

let seq = 0;
const point = (name: string, step: number, value: number | 'Infinity', t = 1000 + step): MetricOp =>
  ({ seq: ++seq, t, key: 'root', op: 'metric', name, value, step });
const entry = (op: MetricOp): OutboxEntry => ({ op, end: 0 }) as OutboxEntry;

describe('alreadyOnServer', () => {
  it('drops as many copies as the server holds beyond what acknowledged ops account for', () => {
    const acked = point('loss', 0, 0.5);
    const window = [point('loss', 0, 0.5), point('loss', 1, 0.4), point('loss', 2, 0.3)];
    // The server holds the acknowledged point, and a copy of steps 0 and 1 from an unanswered batch.
    const history = new Map([['loss', [
      { step: 0, timestamp: 1000, value: 0.5 }, { step: 0, timestamp: 1000, value: 0.5 }, { step: 1, timestamp: 1001, value: 0.4 },
    ]]]);
    const r = alreadyOnServer({ key: 'root', metrics: window, names: new Set(['loss']), history, rejectedPoints: [], acked: () => [entry(acked)] });
    expect(r.skipped).toBe(2);
    expect(r.toSend.map((m) => m.step)).toEqual([2]);
  });

  it('keeps two genuinely equal points when only one is on the server; ignores refused acknowledged points and other names', () => {
    const refused = point('loss', 0, 1);
    const window = [point('loss', 0, 1), point('loss', 0, 1), point('acc', 0, 1)];
    const history = new Map([['loss', [{ step: 0, timestamp: 1000, value: 1 }]]]);
    const r = alreadyOnServer({ key: 'root', metrics: window, names: new Set(['loss']), history, rejectedPoints: [refused.seq], acked: () => [entry(refused)] });
    expect(r.skipped).toBe(1);
    expect(r.toSend.map((m) => `${m.name}${m.step}`)).toEqual(['loss0', 'acc0']);
  });

  it('matches +Infinity against the value the sqlite store clamps it to, and reads no acked ops when nothing matched', () => {
    const window = [point('x', 0, 'Infinity')];
    const history = new Map([['x', [{ step: 0, timestamp: 1000, value: Number.MAX_VALUE }]]]);
    expect(alreadyOnServer({ key: 'root', metrics: window, names: new Set(['x']), history, rejectedPoints: [], acked: () => [] }).toSend).toEqual([]);
    const none = alreadyOnServer({ key: 'root', metrics: window, names: new Set(['x']), history: new Map([['x', []]]), rejectedPoints: [],
      acked: () => { throw new Error('must not be read'); } });
    expect(none).toEqual({ toSend: window, skipped: 0 });
  });
});
