// Where a sweep's trials come from when they are not all known ahead: an adaptive search (Optuna)
// asks the next one when a slot frees, learns from each trial's streamed metric and its end, and
// may stop a trial early. The sweep runner merges each new trial into its DAG as it comes.
import type { StageId } from '../core/brand.js';
import type { RunStatus } from '../core/run-events.js';
import type { TrialPlan, Unit } from './plan.js';

export type NextTrial =
  | { kind: 'trial'; trial: TrialPlan; created: Unit[] }
  | { kind: 'done' }
  /** The source cannot go on (its study failed, a trial did not compile): the sweep fails. */
  | { kind: 'error'; message: string };

export interface TrialSource {
  /** How many trials this sweep may ask at most (for the view). */
  readonly budget: number;
  /** Plans the next trial and merges it into the sweep's units. Called one at a time. */
  next(): Promise<NextTrial>;
  /** A metric one of the trial's own stages streams while it runs; `prune` stops the trial there. */
  metric(trial: TrialPlan, id: StageId, key: string, value: number, step: number | undefined, prune: (step: number) => void): void;
  /**
   * The trial ended, with its value of each objective (null: not reported). Called as it ends, before the next `next()`, so what it learnt is in order;
   * a cancelled trial (the sweep interrupted) is left for a later sweep to ask again.
   */
  ended(trial: TrialPlan, status: RunStatus, values: readonly (number | null)[]): Promise<void>;
}
