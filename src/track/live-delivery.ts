// Delivery while a run records: the ops the outbox makes durable are queued in memory and handed
// to the shared delivery driver (driver.ts) in windows; a backlog that outgrows memory (a long
// outage) is read back from the outbox file instead. Holds the run's delivery lock for the server.
import type { TrackingServer } from './config.js';
import { createClient } from './client-factory.js';
import { Deliverer } from './deliver.js';
import { driveDelivery, type WindowSource } from './driver.js';
import type { MlflowClient } from './mlflow/client.js';
import { readPending, type OutboxEntry, type OutboxWriter } from './outbox.js';
import type { Redactor } from './secret.js';
import { acquireLock, loadState, type SyncState } from './state.js';

export interface LiveDeliveryOptions {
  readonly outboxDir: string;
  readonly server: TrackingServer;
  readonly redactor: Redactor;
  /** The massflow run id, for finding an uncertain create again. */
  readonly runId: string;
  readonly writer: OutboxWriter;
  /** What the outbox already held when it was opened. */
  readonly existing: readonly OutboxEntry[];
  readonly windowOps: number;
  readonly concurrency: number;
  /** HTTP connections; the client's default (10) when unset. */
  readonly connections?: number | undefined;
  readonly maxQueued: number;
  readonly warn: (message: string) => void;
}

export type LiveStart =
  | { readonly kind: 'started'; readonly delivery: LiveDelivery }
  /** Another process holds the delivery lock; ops stay queued for it or for `massflow sync`. */
  | { readonly kind: 'busy' }
  /** The sync state cannot be read: delivery is off, the outbox keeps everything. */
  | { readonly kind: 'off'; readonly error: string };

export function startLiveDelivery(o: LiveDeliveryOptions): LiveStart {
  const lock = acquireLock(o.outboxDir, o.server.uri);
  if (!lock.ok) {
    o.warn(`another process (pid ${lock.error.pid} on ${lock.error.host}) is delivering this run; ops stay queued for \`massflow sync\``);
    return { kind: 'busy' };
  }
  const state = loadState(o.outboxDir, o.server.uri);
  if (!state.ok) {
    lock.value();
    o.warn(`tracking delivery is off for this run: ${state.error}`);
    return { kind: 'off', error: state.error };
  }
  return { kind: 'started', delivery: new LiveDelivery(o, state.value, lock.value) };
}

/**
 * The ops to deliver: exactly those after state.acked, in order. Served from memory while the
 * queue lines up with the acknowledged position; read from disk after a spill, or if the queue
 * ever has a gap (a window must never skip an op, or acknowledging it would lose one).
 */
class LiveQueue implements WindowSource {
  #queue: OutboxEntry[];
  /** The backlog outgrew memory: windows are read from the outbox file. */
  #spilled = false;
  #wake: (() => void) | undefined;
  #stopping = false;

  constructor(private readonly outboxDir: string, private readonly state: SyncState, private readonly maxQueued: number, existing: readonly OutboxEntry[]) {
    this.#queue = existing.filter((e) => e.op.seq > state.acked);
    this.#spillIfFull();
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  push(batch: readonly OutboxEntry[]): void {
    if (!this.#spilled) {
      this.#queue.push(...batch);
      this.#spillIfFull();
    }
    this.#wake?.();
  }

  /** Nothing more will be recorded: `more` answers false once the queue is empty. */
  stop(): void {
    this.#stopping = true;
    this.#wake?.();
  }

  next(max: number): OutboxEntry[] {
    const { state } = this;
    let drop = 0;
    while (drop < this.#queue.length && this.#queue[drop]!.op.seq <= state.acked) drop++;
    if (drop > 0) this.#queue.splice(0, drop);
    if (!this.#spilled) {
      if (this.#queue.length === 0 || this.#queue[0]!.op.seq === state.acked + 1) return this.#queue.slice(0, max);
      this.#spill();
    }
    const fromDisk = readPending(this.outboxDir, state.acked, state.offset, max);
    if (fromDisk.length < max) {
      // Caught up with the file: what is flushed from now on is queued in memory again. (Reading
      // is synchronous, so no flush can land between this read and the switch.)
      this.#spilled = false;
      this.#queue = [];
    }
    return fromDisk;
  }

  async more(): Promise<boolean> {
    if (this.#stopping) return false;
    await new Promise<void>((r) => (this.#wake = r));
    this.#wake = undefined;
    return true;
  }

  #spillIfFull(): void {
    // A long outage: stop holding the backlog in memory and read it back from disk by window.
    if (this.#queue.length > this.maxQueued) this.#spill();
  }

  #spill(): void {
    this.#spilled = true;
    this.#queue = [];
  }
}

export class LiveDelivery {
  readonly state: SyncState;
  #lastError: string | undefined;
  readonly #client: MlflowClient;
  readonly #release: () => void;
  readonly #abort = new AbortController();
  readonly #queue: LiveQueue;
  readonly #loop: Promise<void>;

  constructor(o: LiveDeliveryOptions, state: SyncState, release: () => void) {
    this.state = state;
    this.#release = release;
    this.#client = createClient(o.server, { redactor: o.redactor, ...(o.connections !== undefined && { connections: o.connections }) });
    this.#queue = new LiveQueue(o.outboxDir, state, o.maxQueued, o.existing);
    o.writer.onDurable((batch) => this.#queue.push(batch));
    const signal = this.#abort.signal;
    const deliverer = new Deliverer({
      client: this.#client,
      trackingDir: o.outboxDir,
      state,
      massflowRunId: o.runId,
      concurrency: o.concurrency,
      signal,
    });
    let reported = false;
    this.#loop = driveDelivery({
      mode: 'live', deliverer, source: this.#queue, policy: o.server.retry, windowOps: o.windowOps, signal,
      stopping: () => this.#queue.stopping,
      onWindow: (_, outcome) => {
        for (const r of outcome.stats.rejected) o.warn(`MLflow refused ${r.what}: ${r.reason}`);
        if (outcome.ok) reported = false;
        // Cut short by the close deadline: close gives that as the reason instead.
        else if (!signal.aborted) this.#lastError = outcome.error.message;
      },
      onRetry: (error) => {
        // Once per outage, not once per retry.
        if (!reported) o.warn(`MLflow server unavailable, tracking continues on disk: ${error.message}`);
        reported = true;
      },
    }).then((end) => {
      if (end.kind !== 'broken') return;
      this.#lastError = `tracking delivery stopped: ${end.message}`;
      o.warn(this.#lastError);
    });
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Stops the loop at once, wherever it is (the close deadline). */
  abort(reason: Error): void {
    this.#abort.abort(reason);
  }

  /** Delivers what is queued, then returns; the outbox must be closed first. */
  async drain(): Promise<void> {
    this.#queue.stop();
    await this.#loop;
  }

  async dispose(): Promise<void> {
    this.#abort.abort(new Error('tracker closed'));
    await this.#client.close().catch(() => undefined);
    this.#release();
  }
}
