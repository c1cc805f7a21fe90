// `massflow sync`: pushes what runs recorded while no server was reachable. Reads each run's outbox
// from where its sync state left off and delivers the rest; running it again sends nothing.
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { TrackingConfig } from './config.js';
import { createClient } from './client-factory.js';
import { redactorFor } from './redactors.js';
import { Deliverer } from './deliver.js';
import { driveDelivery } from './driver.js';
import { OPS_FILE, readOutbox, readPending } from './outbox.js';
import { acquireLock, loadState, type Rejection } from './state.js';
import { TRACKING_DIR } from './tracker.js';

export interface SyncOptions {
  /** Ops per delivery window (default 10 000). */
  readonly windowOps?: number;
  /** Parallel requests per window (default 4). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  /** Called after each delivered window. */
  readonly onProgress?: (p: { runDir: string; acked: number; total: number }) => void;
}

export type SyncStatus =
  /** Everything pending was delivered. */
  | 'synced'
  /** Nothing was pending; no request was made. */
  | 'up-to-date'
  /** Some ops were delivered, some are still pending (server trouble): run sync again later. */
  | 'partial'
  /** Another process is delivering this run right now. */
  | 'busy'
  /** Nothing could be delivered; see `message`. */
  | 'failed'
  /** The run recorded no tracking outbox. */
  | 'no-outbox';

export interface SyncRunResult {
  readonly runDir: string;
  readonly runId: string;
  readonly status: SyncStatus;
  /** Ops acknowledged by this sync. */
  readonly sentOps: number;
  /** Metric points written by this sync. */
  readonly sentPoints: number;
  /** Metric points found already on the server and therefore not sent again. */
  readonly skippedPoints: number;
  /** HTTP requests made, retries included. */
  readonly requests: number;
  readonly pending: number;
  readonly rejected: readonly Rejection[];
  readonly message?: string;
}

export async function syncRun(runDir: string, config: TrackingConfig, opts: SyncOptions = {}): Promise<SyncRunResult> {
  const runId = basename(runDir);
  const trackingDir = join(runDir, TRACKING_DIR);
  const base = { runDir, runId, sentOps: 0, sentPoints: 0, skippedPoints: 0, requests: 0, pending: 0, rejected: [] as Rejection[] };
  if (!existsSync(join(trackingDir, OPS_FILE))) return { ...base, status: 'no-outbox' };
  if (config.mode !== 'server') {
    return { ...base, status: 'failed', message: 'no tracking server configured: set MLFLOW_TRACKING_URI, `tracking.uri` in the spec, or pass --tracking-uri (`massflow mlflow up` starts a local one)' };
  }
  const server = config.server;
  const lock = acquireLock(trackingDir, server.uri);
  if (!lock.ok) return { ...base, status: 'busy', message: `run ${runId} is being delivered by pid ${lock.error.pid} on ${lock.error.host}` };
  try {
    const loaded = loadState(trackingDir, server.uri);
    if (!loaded.ok) return { ...base, status: 'failed', message: loaded.error };
    const state = loaded.value;
    const windowOps = opts.windowOps ?? 10_000;
    // Cheap check first: nothing after the acknowledged offset means nothing to do, no request.
    if (readPending(trackingDir, state.acked, state.offset, 1).length === 0) return { ...base, status: 'up-to-date' };
    const total = countPending(trackingDir, state.acked);

    let requests = 0;
    const redactor = redactorFor(server);
    const client = createClient(server, { redactor, onAttempt: () => (requests += 1), ...(opts.concurrency !== undefined && { connections: opts.concurrency * 2 }) });
    const deliverer = new Deliverer({
      client,
      trackingDir,
      state,
      massflowRunId: runId,
      concurrency: opts.concurrency ?? 4,
      ...(opts.signal && { signal: opts.signal }),
    });
    let sentOps = 0;
    let sentPoints = 0;
    let skippedPoints = 0;
    const rejected: Rejection[] = [];
    let message: string | undefined;
    let end;
    try {
      // Window by window from disk: a backlog of millions of points never sits in memory at once.
      end = await driveDelivery({
        mode: 'sync', deliverer, policy: server.retry, windowOps, signal: opts.signal,
        source: { next: (max) => readPending(trackingDir, state.acked, state.offset, max), more: async () => false },
        onWindow: (window, out) => {
          rejected.push(...out.stats.rejected);
          skippedPoints += out.stats.skippedPoints;
          if (!out.ok) {
            message = out.error.message;
            return;
          }
          sentOps += window.length;
          sentPoints += out.stats.points;
          opts.onProgress?.({ runDir, acked: sentOps, total });
        },
      });
    } finally {
      await client.close().catch(() => undefined);
    }
    if (end.kind === 'broken') message = end.message;
    const drained = end.kind === 'drained';
    const left = drained ? 0 : countPending(trackingDir, state.acked);
    const status: SyncStatus = left === 0 ? 'synced' : sentOps > 0 ? 'partial' : 'failed';
    return {
      runDir, runId, status, sentOps, sentPoints, skippedPoints, requests, pending: left, rejected,
      ...(left > 0 && message !== undefined && { message: redactor.redact(message) }),
    };
  } finally {
    lock.value();
  }
}

export interface SyncAllResult {
  readonly runs: readonly SyncRunResult[];
  readonly pending: number;
}

/** Syncs every run under <projectDir>/runs that has a tracking outbox, oldest first. */
export async function syncAll(projectDir: string, config: TrackingConfig, opts: SyncOptions = {}): Promise<SyncAllResult> {
  const runsDir = join(projectDir, 'runs');
  let names: string[];
  try {
    names = readdirSync(runsDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    names = [];
  }
  const runs: SyncRunResult[] = [];
  for (const name of names) {
    const runDir = join(runsDir, name);
    if (!existsSync(join(runDir, TRACKING_DIR, OPS_FILE))) continue;
    if (opts.signal?.aborted) break;
    runs.push(await syncRun(runDir, config, opts));
  }
  return { runs, pending: runs.reduce((n, r) => n + r.pending, 0) };
}

/** How many ops after `acked` the outbox holds. */
function countPending(trackingDir: string, acked: number): number {
  return readOutbox(trackingDir, 0, { afterSeq: acked }).entries.length;
}
