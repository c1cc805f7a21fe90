// Runs a plan as a DAG: a stage starts when everything it needs has succeeded, as many at once as
// the job limit (p-queue) and the resource pool allow. After a failure no new stage starts unless
// keepGoing, and the stages already running are stopped (SIGTERM, then SIGKILL after their grace) and
// end as cancelled; dependents of a failed stage are skipped. Cancellation stops everything.
// With a pipelined executor (a batch scheduler orders the jobs) a stage is handed over as soon as
// every stage it needs has been submitted, and the executor's scheduler, not ours, limits how many run.
import PQueue from 'p-queue';
import type { StageId } from '../core/brand.js';
import type { PlannedStage } from '../plan/decide.js';
import type { Pipeline } from '../pipeline/model.js';
import type { UpstreamJob } from './executor.js';
import { succeeded, type SkipCause, type StageOutcome } from '../core/run-events.js';
import { ResourcePool } from './resources.js';
import { runStage, type StageChain, type StageRunContext } from './stage-runner.js';

export interface ScheduleOptions {
  jobs: number;
  keepGoing: boolean;
}

export async function schedule(rc: StageRunContext, pipeline: Pipeline, plan: readonly PlannedStage[], opts: ScheduleOptions): Promise<Map<StageId, StageOutcome>> {
  const pipelined = rc.executor.pipelined === true;
  const queue = new PQueue({ concurrency: pipelined ? Infinity : Math.max(1, opts.jobs) });
  // Pipelined only: job ids of submitted stages, and a way to withdraw a stage whose upstream failed.
  const submitted = new Map<StageId, string>();
  const withdraw = new Map<StageId, AbortController>();
  const ended = new Map(plan.map((p) => [p.id, deferred()] as const));
  const byId = new Map(pipeline.stages.map((s) => [s.id, s] as const));
  const planned = new Map(plan.map((p) => [p.id, p] as const));
  const outcomes = new Map<StageId, StageOutcome>();
  const pending = plan.map((p) => p.id);
  let stoppedAfter: StageId | undefined;
  // A failure without keepGoing stops the local stages already running, not only the ones to come.
  const stopRunning = new AbortController();
  const localRc: StageRunContext = { ...rc, signal: AbortSignal.any([rc.signal, stopRunning.signal]) };
  let wake: () => void = () => {};

  const finish = (id: StageId, outcome: StageOutcome) => {
    outcomes.set(id, outcome);
    rc.emit({ type: 'stage-end', id, outcome, at: Date.now() });
    if (outcome.kind === 'failed' && !opts.keepGoing) {
      stoppedAfter ??= id;
      if (!pipelined) stopRunning.abort();
    }
    // Dependents already handed to the batch scheduler cannot succeed any more: withdraw them.
    if (pipelined && !succeeded(outcome)) {
      for (const [d, ctl] of withdraw) if (pipeline.upstream.get(d)?.includes(id)) ctl.abort();
    }
    ended.get(id)?.resolve();
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

  /** A stage handed to a pipelined executor while some of its upstream jobs may still be queued. */
  const runChained = async (id: StageId, ups: StageId[]): Promise<StageOutcome> => {
    const ctl = new AbortController();
    const onAbort = () => ctl.abort();
    rc.signal.addEventListener('abort', onAbort, { once: true });
    withdraw.set(id, ctl);
    const upstream: UpstreamJob[] = ups.map((u) => ({ id: u, jobId: outcomes.has(u) ? undefined : submitted.get(u) }));
    const chain: StageChain = { upstream, onSubmitted: (jobId) => { submitted.set(id, jobId); wake(); } };
    try {
      const outcome = await runStage({ ...rc, signal: ctl.signal, pool: UNLIMITED }, byId.get(id)!, planned.get(id)!, chain);
      // The outcome settles after the upstream's: a job withdrawn or cancelled by the batch scheduler
      // because an upstream job failed is skipped, not failed in its own right.
      await Promise.all(ups.map((u) => ended.get(u)?.promise));
      const cause = upstreamCause(id);
      return cause && !succeeded(outcome) && !rc.signal.aborted ? { kind: 'skipped', cause } : outcome;
    } finally {
      withdraw.delete(id);
      rc.signal.removeEventListener('abort', onAbort);
    }
  };

  const dispatch = () => {
    for (let i = 0; i < pending.length; i++) {
      const id = pending[i]!;
      const ups = (pipeline.upstream.get(id) ?? []).filter((u) => planned.has(u));
      const ready = ups.every((u) => outcomes.has(u) || (pipelined && submitted.has(u)));
      // Pipelined, a stage whose upstream already failed is skipped without waiting for the rest.
      if (!ready && !(pipelined && upstreamCause(id))) continue;
      pending.splice(i--, 1);
      const cause = upstreamCause(id);
      if (rc.signal.aborted) finish(id, { kind: 'cancelled' });
      else if (cause) finish(id, { kind: 'skipped', cause });
      else if (stoppedAfter !== undefined) finish(id, { kind: 'skipped', cause: { kind: 'run-stopped', after: stoppedAfter } });
      else {
        void queue.add(async () => {
          if (rc.signal.aborted) return finish(id, { kind: 'cancelled' });
          // Pipelined, an upstream may have failed between dispatch and now: name it, not the stop.
          const lateCause = pipelined ? upstreamCause(id) : undefined;
          if (lateCause) return finish(id, { kind: 'skipped', cause: lateCause });
          if (stoppedAfter !== undefined) return finish(id, { kind: 'skipped', cause: { kind: 'run-stopped', after: stoppedAfter } });
          let outcome: StageOutcome;
          try {
            outcome = pipelined ? await runChained(id, ups) : await runStage(localRc, byId.get(id)!, planned.get(id)!);
          } catch (e) {
            outcome = localRc.signal.aborted ? { kind: 'cancelled' } : { kind: 'failed', durationMs: 0, failure: { kind: 'executor', message: (e as Error).message }, logTail: [] };
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

/** The batch scheduler decides what fits where: nothing is held back locally. */
const UNLIMITED = new ResourcePool({ cpu: Infinity, memoryBytes: Infinity, gpu: Infinity });

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}
