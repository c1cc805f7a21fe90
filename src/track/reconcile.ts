// Which of a window's metric points an earlier, unanswered attempt already left on the server.
// MLflow appends every point it receives, so a batch that timed out after the server applied it
// must not be sent again. Pure: the caller reads the server's histories and the acknowledged ops.
import type { OutboxEntry } from './outbox.js';
import type { RunKey, TrackingOp } from './ops.js';

export type MetricOp = Extract<TrackingOp, { op: 'metric' }>;

export interface ServerPoint {
  readonly step: number;
  readonly timestamp: number;
  readonly value: number | string;
}

/** Identity of a point on the server. The sqlite store clamps +-Infinity to +-Number.MAX_VALUE. */
export function pointIdentity(step: number, timestamp: number, value: number | string): string {
  let v: string;
  if (value === 'NaN' || (typeof value === 'number' && Number.isNaN(value))) v = 'NaN';
  else if (value === 'Infinity' || (typeof value === 'number' && value >= Number.MAX_VALUE)) v = 'MAX';
  else if (value === '-Infinity' || (typeof value === 'number' && value <= -Number.MAX_VALUE)) v = '-MAX';
  else v = String(value);
  return `${step}|${timestamp}|${v}`;
}

export interface ReconcileInput {
  readonly key: RunKey;
  /** The window's points for this run, in order. */
  readonly metrics: readonly MetricOp[];
  /** Metric names an unanswered attempt may have written. */
  readonly names: ReadonlySet<string>;
  /** The server's history of each name in `names`. */
  readonly history: ReadonlyMap<string, readonly ServerPoint[]>;
  /** Seqs of points the server refused for good: not on the server. */
  readonly rejectedPoints: readonly number[];
  /** The acknowledged ops, read only when some point is found on the server. */
  readonly acked: () => readonly OutboxEntry[];
}

/**
 * For each point identity (step, timestamp, value), the server holds `S` copies and the
 * acknowledged ops account for `A`; the `S - A` extra copies were left by an unanswered attempt and
 * stand for that many of this window's points, which are therefore not sent again. Counting copies,
 * not just presence, keeps two genuinely equal points both.
 */
export function alreadyOnServer(i: ReconcileInput): { toSend: MetricOp[]; skipped: number } {
  const id = (name: string, step: number, t: number, value: number | string): string => `${name}|${pointIdentity(step, t, value)}`;
  const wanted = new Set(i.metrics.filter((m) => i.names.has(m.name)).map((m) => id(m.name, m.step, m.t, m.value)));
  const surplus = new Map<string, number>();
  for (const [name, points] of i.history) {
    for (const p of points) {
      const k = id(name, p.step, p.timestamp, p.value);
      if (wanted.has(k)) surplus.set(k, (surplus.get(k) ?? 0) + 1);
    }
  }
  if (surplus.size === 0) return { toSend: [...i.metrics], skipped: 0 };
  const rejected = new Set(i.rejectedPoints);
  for (const { op } of i.acked()) {
    if (op.op !== 'metric' || op.key !== i.key || !i.names.has(op.name) || rejected.has(op.seq)) continue;
    const k = id(op.name, op.step, op.t, op.value);
    const n = surplus.get(k);
    if (n !== undefined) surplus.set(k, n - 1);
  }
  const toSend: MetricOp[] = [];
  let skipped = 0;
  for (const m of i.metrics) {
    const k = id(m.name, m.step, m.t, m.value);
    const n = i.names.has(m.name) ? surplus.get(k) ?? 0 : 0;
    if (n > 0) {
      surplus.set(k, n - 1);
      skipped += 1;
    } else {
      toSend.push(m);
    }
  }
  return { toSend, skipped };
}
