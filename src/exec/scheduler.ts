// Runs a plan as a DAG: a stage starts when everything it needs has succeeded, as many at once as
// the job limit (p-queue) and the resource pool allow. After a failure no new stage starts unless
// keepGoing; dependents of a failed stage are skipped. Cancellation stops everything.
import PQueue from 'p-queue';
import type { StageId } from '../core/brand.js';
import type { PlannedStage } from '../plan/decide.js';
import type { Pipeline } from '../spec/model.js';
import { succeeded, type SkipCause, type StageOutcome } from './outcome.js';
import { runStage, type StageRunContext } from './stage-runner.js';

export interface ScheduleOptions {
  jobs: number;
  keepGoing: boolean;
}

export async function schedule(rc: StageRunContext, pipeline: Pipeline, plan: readonly PlannedStage[], opts: ScheduleOptions): Promise<Map<StageId, StageOutcome>> {
  const queue = new PQueue({ concurrency: Math.max(1, opts.jobs) });
  const byId = new Map(pipeline.stages.map((s) => [s.id, s] as const));
  const planned = new Map(plan.map((p) => [p.id, p] as const));
  const outcomes = new Map<StageId, StageOutcome>();
  const pending = plan.map((p) => p.id);
  let stoppedAfter: StageId | undefined;
  let wake: () => void = () => {};

  const finish = (id: StageId, outcome: StageOutcome) => {
    outcomes.set(id, outcome);
    rc.emit({ type: 'stage-end', id, outcome, at: Date.now() });
    if (outcome.kind === 'failed' && !opts.keepGoing) stoppedAfter ??= id;
    wake();
  };

  /** Why a stage cannot run because of an upstream stage, traced to the stage that failed. */
  const upstreamCause = (id: StageId): SkipCause | undefined => {
    for (const u of pipeline.upstream.get(id) ?? []) {
      const o = outcomes.get(u);
      if (!o || succeeded(o)) continue;
      if (o.kind === 'skipped' && o.cause.kind === 'upstream-failed') return o.cause;
      return { kind: 'upstream-failed', upstream: u };
    }
    return undefined;
  };

  const dispatch = () => {
    for (let i = 0; i < pending.length; i++) {
      const id = pending[i]!;
      const ups = (pipeline.upstream.get(id) ?? []).filter((u) => planned.has(u));
      if (!ups.every((u) => outcomes.has(u))) continue;
      pending.splice(i--, 1);
      const cause = upstreamCause(id);
      if (rc.signal.aborted) finish(id, { kind: 'cancelled' });
      else if (cause) finish(id, { kind: 'skipped', cause });
      else if (stoppedAfter !== undefined) finish(id, { kind: 'skipped', cause: { kind: 'run-stopped', after: stoppedAfter } });
      else {
        void queue.add(async () => {
          if (rc.signal.aborted) return finish(id, { kind: 'cancelled' });
          if (stoppedAfter !== undefined) return finish(id, { kind: 'skipped', cause: { kind: 'run-stopped', after: stoppedAfter } });
          let outcome: StageOutcome;
          try {
            outcome = await runStage(rc, byId.get(id)!, planned.get(id)!);
          } catch (e) {
            outcome = rc.signal.aborted ? { kind: 'cancelled' } : { kind: 'failed', durationMs: 0, failure: { kind: 'executor', message: (e as Error).message }, logTail: [] };
          }
          finish(id, outcome);
        });
      }
    }
  };

  while (outcomes.size < plan.length) {
    const changed = new Promise<void>((r) => { wake = r; });
    dispatch();
    if (outcomes.size >= plan.length) break;
    await changed;
  }
  await queue.onIdle();
  return outcomes;
}
