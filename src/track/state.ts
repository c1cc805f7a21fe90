// The sync state of one run towards one server: which ops the server acknowledged, which MLflow run
// each local run key became, and which writes were in flight when the process last stopped. It is
// the only memory that makes `massflow sync` exactly-once, so every change is written atomically
// (temp file, fsync, rename) before the next request depends on it.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { RunKey } from './ops.js';
import { err, ok, type Result } from '../core/result.js';

export interface RunMapping {
  readonly runId: string;
  readonly experimentId: string;
  readonly artifactUri: string;
}

export interface Uncertain {
  /** Writes of ops up to this sequence number may have reached the server without an answer. */
  readonly upTo: number;
  /** Run keys whose create request may have made a run. */
  readonly runs: readonly RunKey[];
  /** Per run key, metric names that may have points on the server beyond the acknowledged ones. */
  readonly metrics: Readonly<Record<RunKey, readonly string[]>>;
  /**
   * When the mark was last written (ms since the epoch). A write sent just before a crash or a
   * timeout can still be applied after it: reconciliation waits for the histories to settle first.
   * Absent in states written before this field existed.
   */
  readonly since?: number;
}

export interface Rejection {
  readonly seq: number;
  readonly what: string;
  readonly reason: string;
}

export interface SyncState {
  readonly version: 1;
  /** The server this state is about (no credentials). */
  readonly target: string;
  /** Experiment name -> id on this server. */
  experiments: Record<string, string>;
  runs: Record<RunKey, RunMapping>;
  /** Run keys the server refused to create, with the reason; their ops are rejected too. */
  failedRuns: Record<RunKey, string>;
  /** Every op with seq <= acked is on the server (or rejected and listed below). */
  acked: number;
  /** Byte offset in ops.jsonl just past op `acked`: where the next sync starts reading. */
  offset: number;
  uncertain?: Uncertain;
  rejected: Rejection[];
  /** Sequence numbers of rejected metric points: they are not on the server, so reconciliation must not count them. */
  rejectedPoints: number[];
  /** Totals over the life of this state, for summaries. */
  sent: { ops: number; points: number; requests: number };
}

/** One state file per server, so a run can be pushed to a second server later from scratch. */
export function stateFileName(target: string): string {
  return `sync-${createHash('sha256').update(target).digest('hex').slice(0, 16)}.json`;
}

export function freshState(target: string): SyncState {
  return { version: 1, target, experiments: {}, runs: {}, failedRuns: {}, acked: 0, offset: 0, rejected: [], rejectedPoints: [], sent: { ops: 0, points: 0, requests: 0 } };
}

/**
 * Loads the state for `target`; a missing file is a fresh state. A corrupt file is an error and is
 * never reset silently: starting over could send every metric point a second time.
 */
export function loadState(trackingDir: string, target: string): Result<SyncState, string> {
  const file = join(trackingDir, stateFileName(target));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return ok(freshState(target));
    return err(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    const s = JSON.parse(text) as SyncState;
    if (s.version !== 1 || s.target !== target || typeof s.acked !== 'number' || typeof s.runs !== 'object') {
      return err(`${file} is not a sync state for ${target}; move it away only if you know the server has none of this run`);
    }
    return ok({ ...freshState(target), ...s });
  } catch (e) {
    return err(`${file} is corrupt (${(e as Error).message}); move it away only if you know the server has none of this run`);
  }
}

export function saveState(trackingDir: string, state: SyncState): void {
  mkdirSync(trackingDir, { recursive: true });
  const file = join(trackingDir, stateFileName(state.target));
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify(state));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  // The rename itself must survive a power cut, or a later sync would resend acknowledged ops.
  try {
    const dfd = openSync(trackingDir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  }
}

export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

/**
 * One deliverer per run and server at a time: the running Tracker and a `massflow sync` in another
 * shell would otherwise both send the same pending points. A lock left by a dead process on this
 * host is taken over.
 */
export function acquireLock(trackingDir: string, target: string): Result<() => void, LockOwner> {
  mkdirSync(trackingDir, { recursive: true });
  const file = join(trackingDir, stateFileName(target).replace(/\.json$/, '.lock'));
  const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      return ok(() => {
        try {
          const cur = JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
          if (cur.pid === me.pid && cur.host === me.host) unlinkSync(file);
        } catch {
          // Already gone.
        }
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner: LockOwner | undefined;
    try {
      owner = JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
    } catch {
      owner = undefined; // Half-written by a process that died at once: treat as stale.
    }
    if (owner && (owner.host !== me.host || isAlive(owner.pid))) return err(owner);
    try {
      unlinkSync(file);
    } catch {
      // Someone else removed it first; try again.
    }
  }
  return err({ pid: -1, host: me.host, since: 'unknown' });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
