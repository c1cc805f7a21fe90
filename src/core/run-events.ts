// What happens in a run, as data: the events a run emits, the outcome every stage ends in, why a
// stage runs or was skipped, why it failed. Literal kinds and fields, no prose: report/describe.ts
// makes the words, and every sink (terminal, run record, MLflow, sweeps) switches over each union
// exhaustively, so a new kind fails the build until every sink handles it. Every layer may import
// this module; it imports nothing but other core data.
import type { Digest, StageId } from './brand.js';

/** An output as the object store holds it. */
export type StoredOutput =
  | { kind: 'file'; digest: Digest; size: number; exec: boolean }
  | { kind: 'dir'; digest: Digest; fileCount: number; size: number };

/** Who holds a lock on an output. */
export interface LockOwner {
  pid: number; host: string; procStart: string; runId: string; stage: string; since: string;
  /** The process group the stage runs as, once started: a dead owner's stage may still be writing. */
  stageGroup?: StageGroup | undefined;
}

/** A stage's process group, with its leader's start time (a later group may reuse the id). */
export interface StageGroup { pgid: number; procStart: string }

/** One field in which a stage's fingerprint differs from its last run. */
export type Change =
  | { field: 'format'; from: number; to: number }
  | { field: 'params'; key: string; from: unknown; to: unknown; kind: 'changed' | 'added' | 'removed' }
  | { field: 'vars'; key: string; from: unknown; to: unknown }
  | { field: 'code'; path: string; kind: 'changed' | 'added' | 'removed' }
  | { field: 'command'; from: string[]; to: string[] }
  | { field: 'deps'; path: string; kind: 'changed' | 'added' | 'removed' | 'missing' | 'now produced' | 'no longer produced' }
  | { field: 'upstream'; stage: string; kind: 'changed' | 'added' | 'removed' }
  | { field: 'outs'; from: string[]; to: string[] }
  | { field: 'env'; key: string; from: string | undefined; to: string | undefined }
  | { field: 'lockfile' }
  | { field: 'backend'; from: string; to: string };

/** Why the plan runs a stage. */
export type RunReason =
  | { kind: 'forced' }
  | { kind: 'never-run' }
  | { kind: 'changed'; changes: Change[] }
  | { kind: 'cache-disabled' }
  | { kind: 'not-cached' }
  /** Outputs changed since the stage's last run, and its results may not be restored (`restore: last-run`). */
  | { kind: 'outs-changed'; outs: string[] };

/** Why a stage is fresh, restored or run, as the plan and the stage's start give it. */
export type StageReason =
  | RunReason
  | { kind: 'up-to-date' }
  /** `from: 'remote'`: the outputs are restored from the remote cache. */
  | { kind: 'outputs-missing'; outs: string[]; from?: 'remote' }
  /** Planned from the cache, but the entry was gone by the time the stage's turn came. */
  | { kind: 'entry-vanished' }
  /** A sweep trial's stage that another trial ran for it, or that a run outside the sweep left cached. */
  | { kind: 'shared'; trial: string }
  | { kind: 'cached-elsewhere'; runId: string };

/** What a stage asks for beyond what the machine has: it cannot run here at all. */
export interface Shortfall { resource: 'gpu' | 'memory'; needs: number; available: number }

/** What the remote cache did for a stage about to restore or run. */
export type RemoteNote = { kind: 'fetched'; url: string; objects: number; bytes: number } | { kind: 'refused'; message: string };

/** The part of a stage's own bookkeeping that threw (not the stage's code, not the commit). */
export type BookkeepingStep = 'lock' | 'restore' | 'prepare' | 'trial-workspace';

export type Failure =
  | { kind: 'exit'; code: number | null; signal: string | null }
  | { kind: 'stage-error'; message: string }
  | { kind: 'spawn'; message: string }
  | { kind: 'bad-module'; message: string }
  | { kind: 'params'; message: string }
  | { kind: 'missing-output'; paths: string[] }
  | ({ kind: 'resources' } & Shortfall)
  | { kind: 'commit'; message: string }
  | { kind: 'bookkeeping'; step: BookkeepingStep; message: string }
  | { kind: 'executor'; message: string };

export type SkipCause =
  | { kind: 'upstream-failed'; upstream: StageId }
  | { kind: 'run-stopped'; after: StageId }
  /** A sweep trial's pruner stopped it at this stage: what it had left to do is not started. */
  | { kind: 'trial-pruned'; at: StageId };

export type StageOutcome =
  | { kind: 'ran'; durationMs: number; outputs: Record<string, StoredOutput> }
  /** `fromRun`: the run that computed the cached result (its record holds the stage's metrics); `from`: restored from the remote cache. */
  | { kind: 'restored'; durationMs: number; outs: string[]; outputs: Record<string, StoredOutput>; from?: 'remote'; fromRun?: string | undefined }
  | { kind: 'fresh'; outputs: Record<string, StoredOutput>; fromRun?: string | undefined }
  | { kind: 'failed'; durationMs: number; failure: Failure; logTail: string[]; jobId?: string }
  | { kind: 'skipped'; cause: SkipCause }
  | { kind: 'cancelled' }
  /** Stopped like a cancelled stage because an adaptive sweep's pruner judged its curve hopeless at `step`; nothing cached. */
  | { kind: 'pruned'; durationMs: number; step: number };

export type OutcomeKind = StageOutcome['kind'];

export const succeeded = (o: StageOutcome) => o.kind === 'ran' || o.kind === 'restored' || o.kind === 'fresh';

/** `pruned`: a sweep trial its pruner stopped early (never a whole run). */
export type RunStatus = 'succeeded' | 'failed' | 'cancelled' | 'pruned';

/** One stage of the plan, as a run announces it. */
export interface PlanEntry { id: StageId; action: 'fresh' | 'restore' | 'run'; reason: StageReason }

export type RunEvent =
  | { type: 'run-start'; runId: string; pipeline: string; file: string; plan: PlanEntry[]; jobs: number; executor: string; at: number }
  /** `devices`: the GPUs the stage was given when massflow manages GPUs (empty: none). */
  | { type: 'stage-start'; id: StageId; action: 'run' | 'restore'; reason: StageReason; remote?: RemoteNote | undefined; at: number; devices?: string[] | undefined }
  | { type: 'stage-wait'; id: StageId; resource: string; owner: LockOwner; at: number }
  | { type: 'stage-log'; id: StageId; line: string; at: number }
  | { type: 'stage-progress'; id: StageId; done: number; total: number; at: number }
  /** `from`: a cached stage's metric, recorded by that earlier run and replayed here. */
  | { type: 'stage-metric'; id: StageId; key: string; value: number; step: number | undefined; timestamp: number; from?: string | undefined }
  | { type: 'stage-artifact'; id: StageId; path: string; name: string | undefined }
  /** Something the stage reported could not be used (a bad line of its events file): shown, recorded, never fatal. */
  | { type: 'stage-warning'; id: StageId; message: string; at: number }
  | { type: 'stage-end'; id: StageId; outcome: StageOutcome; at: number }
  | { type: 'run-interrupt'; at: number }
  | { type: 'run-end'; status: RunStatus; durationMs: number; counts: Record<OutcomeKind, number>; at: number };

export type EventSink = (e: RunEvent) => void;

export function emptyCounts(): Record<OutcomeKind, number> {
  return { ran: 0, restored: 0, fresh: 0, failed: 0, skipped: 0, cancelled: 0, pruned: 0 };
}

/** Where a sink's switch ends: a kind added to a union and not handled is a compile error here. */
export function unhandled(x: never): never {
  throw new Error(`unhandled kind: ${JSON.stringify(x)}`);
}
