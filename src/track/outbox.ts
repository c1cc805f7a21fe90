// The durable outbox: tracking ops appended as JSON lines to runs/<run-id>/tracking/ops.jsonl,
// written and fsync'd in batches. Delivery only ever reads ops that are on disk, so whatever the
// server acknowledged can be traced back to a line of this file.
import { closeSync, fdatasyncSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { isTrackingOp, type OpDraft, type TrackingOp } from './ops.js';
import type { Redactor } from './secret.js';

export const OPS_FILE = 'ops.jsonl';

export interface OutboxEntry {
  readonly op: TrackingOp;
  /** Byte offset just past this op's line: where reading resumes once it is acknowledged. */
  readonly end: number;
}

export interface ReadResult {
  readonly entries: OutboxEntry[];
  /** Lines that did not parse as an op (a torn final line is not one of them: it is just not yet complete). */
  readonly corrupt: { readonly offset: number; readonly text: string }[];
}

/**
 * Reads ops from `offset` on, at most `maxEntries` of them with a sequence number above
 * `afterSeq` (a long backlog is read window by window, not all at once). A final line without its newline was cut off by a crash mid-write, or
 * is being written right now; it is skipped (a later append starts on a fresh line, see
 * OutboxWriter.open).
 */
export function readOutbox(trackingDir: string, offset = 0, opts: { maxEntries?: number; afterSeq?: number } = {}): ReadResult {
  let fd: number;
  try {
    fd = openSync(join(trackingDir, OPS_FILE), 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], corrupt: [] };
    throw e;
  }
  const max = opts.maxEntries ?? Infinity;
  const after = opts.afterSeq ?? 0;
  const entries: OutboxEntry[] = [];
  const corrupt: { offset: number; text: string }[] = [];
  try {
    const chunk = Buffer.alloc(4 * 1024 * 1024);
    let carry = Buffer.alloc(0);
    let base = offset; // file offset of carry[0]
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, base + carry.length);
      if (n === 0) break;
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      let pos = 0;
      for (;;) {
        const nl = buf.indexOf(0x0a, pos);
        if (nl < 0) break;
        const text = buf.toString('utf8', pos, nl);
        if (text.trim() !== '') {
          try {
            const op: unknown = JSON.parse(text);
            if (isTrackingOp(op)) {
              if (op.seq > after) entries.push({ op, end: base + nl + 1 });
            }
            else corrupt.push({ offset: base + pos, text: text.slice(0, 200) });
          } catch {
            corrupt.push({ offset: base + pos, text: text.slice(0, 200) });
          }
          if (entries.length >= max) return { entries, corrupt };
        }
        pos = nl + 1;
      }
      carry = Buffer.from(buf.subarray(pos));
      base += pos;
    }
  } finally {
    closeSync(fd);
  }
  return { entries, corrupt };
}

export interface OutboxWriterOptions {
  /** Longest time an op waits in memory before being written and fsync'd. */
  readonly flushIntervalMs?: number;
  /** Buffered bytes that trigger an immediate flush. */
  readonly flushBytes?: number;
  readonly redactor?: Redactor;
}

/**
 * Appends ops with increasing sequence numbers. Lines are buffered and written with one
 * write + fdatasync per flush; `onDurable` hears about each flushed batch. A crash loses at most the
 * last `flushIntervalMs` of ops, never a line in the middle.
 */
export class OutboxWriter {
  readonly dir: string;
  #fh: FileHandle | undefined;
  #size: number;
  #seq: number;
  #pending: { op: TrackingOp; line: string }[] = [];
  #pendingBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #closed = false;
  #error: Error | undefined;
  readonly #interval: number;
  readonly #maxBytes: number;
  readonly #redactor: Redactor | undefined;
  readonly #listeners: ((batch: readonly OutboxEntry[]) => void)[] = [];

  private constructor(dir: string, fh: FileHandle, size: number, seq: number, opts: OutboxWriterOptions) {
    this.dir = dir;
    this.#fh = fh;
    this.#size = size;
    this.#seq = seq;
    this.#interval = opts.flushIntervalMs ?? 200;
    this.#maxBytes = opts.flushBytes ?? 256 * 1024;
    this.#redactor = opts.redactor;
  }

  /** Opens (or continues) the outbox in `trackingDir`, creating the directory. */
  static async open(trackingDir: string, opts: OutboxWriterOptions = {}): Promise<{ writer: OutboxWriter; existing: OutboxEntry[] }> {
    mkdirSync(trackingDir, { recursive: true });
    const file = join(trackingDir, OPS_FILE);
    // Repair a torn final line before appending, so the next op starts on its own line.
    const fd = openSync(file, 'a+');
    try {
      const size = fstatSync(fd).size;
      if (size > 0) {
        const last = Buffer.alloc(1);
        readSync(fd, last, 0, 1, size - 1);
        if (last[0] !== 0x0a) {
          writeSync(fd, '\n');
          fdatasyncSync(fd);
        }
      }
    } finally {
      closeSync(fd);
    }
    const { entries } = readOutbox(trackingDir);
    const seq = entries.reduce((m, e) => Math.max(m, e.op.seq), 0);
    const fh = await open(file, 'a');
    const size = (await fh.stat()).size;
    return { writer: new OutboxWriter(trackingDir, fh, size, seq, opts), existing: entries };
  }

  get lastSeq(): number {
    return this.#seq;
  }

  /** The first write error, if the disk failed; the tracker reports it instead of throwing into the run. */
  get error(): Error | undefined {
    return this.#error;
  }

  onDurable(listener: (batch: readonly OutboxEntry[]) => void): void {
    this.#listeners.push(listener);
  }

  /** Assigns the next sequence number and queues the op for the next flush. */
  append(draft: OpDraft): TrackingOp {
    if (this.#closed) throw new Error('outbox is closed');
    this.#seq += 1;
    let op = { seq: this.#seq, ...draft } as TrackingOp;
    let line = `${JSON.stringify(op)}\n`;
    // The typed redaction happened in the tracker; this is the last guard, and a substring check on
    // the finished line keeps it cheap for the common case where nothing matches.
    if (this.#redactor && !this.#redactor.empty && this.#redactor.contains(line)) {
      op = redactStrings(op, this.#redactor);
      line = `${JSON.stringify(op)}\n`;
    }
    this.#pending.push({ op, line });
    this.#pendingBytes += line.length;
    if (this.#pendingBytes >= this.#maxBytes) void this.flush();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.flush();
      }, this.#interval);
    }
    return op;
  }

  /** Writes and fsyncs everything appended so far. Resolves when it is on disk. */
  flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const batch = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    const run = async (): Promise<void> => {
      if (batch.length === 0 || this.#fh === undefined || this.#error) return;
      const entries: OutboxEntry[] = [];
      let end = this.#size;
      let text = '';
      for (const { op, line } of batch) {
        end += Buffer.byteLength(line, 'utf8');
        entries.push({ op, end });
        text += line;
      }
      try {
        await this.#fh.appendFile(text, 'utf8');
        await this.#fh.datasync();
        this.#size = end;
      } catch (e) {
        this.#error = e as Error;
        return;
      }
      for (const l of this.#listeners) l(entries);
    };
    this.#flushing = this.#flushing.then(run);
    return this.#flushing;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close();
  }
}

function redactStrings<T>(value: T, redactor: Redactor): T {
  if (typeof value === 'string') return redactor.redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactStrings(v, redactor)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[redactor.redact(k)] = redactStrings(v, redactor);
    return out as T;
  }
  return value;
}

/**
 * The next `max` ops after `acked`. Reads from `offset` (just past op `acked`) when it still lines
 * up, else scans the file from the start: a window must never skip an op.
 */
export function readPending(trackingDir: string, acked: number, offset: number, max: number): OutboxEntry[] {
  if (offset > 0) {
    const from = readOutbox(trackingDir, offset, { maxEntries: max, afterSeq: acked }).entries;
    if (from.length === 0 || from[0]!.op.seq === acked + 1) return from;
  }
  return readOutbox(trackingDir, 0, { maxEntries: max, afterSeq: acked }).entries;
}
