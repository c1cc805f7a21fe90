// Messages between the runner and a TS stage's child process (over IPC, or a JSONL file when the
// stage runs where IPC cannot reach, e.g. a batch job).
import type { StageJob } from './executor.js';
import type { StageUsage } from '../core/run-events.js';

export type ToChild =
  | { type: 'start'; job: StageJob }
  | { type: 'abort' };

export type FromChild =
  | { type: 'log'; line: string }
  | { type: 'metric'; key: string; value: number; step?: number; timestamp: number }
  | { type: 'artifact'; path: string; name?: string }
  | { type: 'progress'; done: number; total: number }
  | { type: 'done' }
  /** Sent last, just before the process exits: what it used (see exec/usage.ts). */
  | ({ type: 'usage' } & StageUsage)
  | { type: 'error'; kind: 'stage-error' | 'bad-module' | 'params'; message: string; stack?: string };
