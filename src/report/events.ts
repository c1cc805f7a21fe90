// What happens during a run, as a closed union. The scheduler emits these; the renderer, the run
// record and the tracker each consume them. Nothing else reports progress.
import type { StageId } from '../core/brand.js';
import type { LockOwner } from '../cache/locks.js';
import type { OutcomeKind, StageOutcome } from '../exec/outcome.js';

export type RunStatus = 'succeeded' | 'failed' | 'cancelled';

export interface PlannedLine { id: StageId; action: 'fresh' | 'restore' | 'run'; reason: string }

export type RunEvent =
  | { type: 'run-start'; runId: string; pipeline: string; file: string; plan: PlannedLine[]; jobs: number; executor: string; at: number }
  | { type: 'stage-start'; id: StageId; action: 'run' | 'restore'; reason: string; at: number }
  | { type: 'stage-wait'; id: StageId; resource: string; owner: LockOwner; at: number }
  | { type: 'stage-log'; id: StageId; line: string; at: number }
  | { type: 'stage-progress'; id: StageId; done: number; total: number; at: number }
  /** `from`: a cached stage's metric, recorded by that earlier run and replayed here. */
  | { type: 'stage-metric'; id: StageId; key: string; value: number; step: number | undefined; timestamp: number; from?: string | undefined }
  | { type: 'stage-artifact'; id: StageId; path: string; name: string | undefined }
  | { type: 'stage-end'; id: StageId; outcome: StageOutcome; at: number }
  | { type: 'run-interrupt'; at: number }
  | { type: 'run-end'; status: RunStatus; durationMs: number; counts: Record<OutcomeKind, number>; at: number };

export type EventSink = (e: RunEvent) => void;

export function emptyCounts(): Record<OutcomeKind, number> {
  return { ran: 0, restored: 0, fresh: 0, failed: 0, skipped: 0, cancelled: 0 };
}
