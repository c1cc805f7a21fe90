// What happens during a sweep, as a closed union: the sweep runner emits these, the terminal view
// renders them. Stage-level detail stays in the RunEvents of each trial (records, tracking); the
// sweep forwards only those of the trial a unit runs in.
import type { RunId } from '../core/brand.js';
import type { RunEvent, RunStatus } from '../core/run-events.js';
import type { SweepRecord } from './record.js';

export type SweepEvent =
  | {
    type: 'sweep-start'; sweepId: RunId; experiment: string; file: string; pipeline: string;
    trials: number; units: { run: number; cached: number }; shared: number;
    jobs: number; concurrency: number | null; executor: string; at: number;
  }
  /** A stage event of the trial a unit runs in; `sharedBy` other trials wait for the same unit. */
  | { type: 'unit'; trial: string; sharedBy: number; event: RunEvent }
  /** `values`: the trial's value of each objective, in order (null: not reported). */
  | { type: 'trial-end'; trial: string; runId: RunId; status: RunStatus; values: (number | null)[]; at: number }
  | { type: 'sweep-interrupt'; at: number }
  /** The trial source (an Optuna study) failed: no more trials are asked, the sweep fails. */
  | { type: 'sweep-error'; message: string; at: number }
  | { type: 'sweep-end'; record: SweepRecord };

export type SweepSink = (e: SweepEvent) => void;
