// Runs a sweep plan: the merged DAG of units, as many at once as the job limit and the resource
// pool allow, each unit once, in its owner trial's workspace. Before a unit runs, the outputs of
// its upstream units that ran elsewhere (or were cached) are restored into that workspace from the
// shared cache. When a unit settles, every trial that has it learns the outcome: a trial that
// shared it records the stage as up to date ("shared: ran in trial ..."), with the same outputs
// and metrics. A failing unit fails the trials that contain it; the other trials go on. Trials are
// admitted in order, at most `concurrency` at a time; since a unit's owner is the first trial that
// has it, a trial only ever waits for units of trials admitted before it, so admission cannot
// deadlock. Trials of an adaptive search (a TrialSource) come one at a time while the sweep runs:
// each is merged into the DAG when asked and admitted at once, so it joins units that are running
// or done like any later trial; its pruner may stop it (its running units end `pruned`).
import { totalmem } from 'node:os';
import { join, relative } from 'node:path';
import PQueue from 'p-queue';
import type { StageId } from '../core/brand.js';
import type { StoredOutput } from '../cache/store.js';
import { LockManager } from '../cache/locks.js';
import type { Executor } from '../exec/executor.js';
import { ResourcePool } from '../exec/resources.js';
import { runStage, type StageRunContext } from '../exec/stage-runner.js';
import { openProject, type Project } from '../project/open.js';
import { backendLabel } from '../project/backend-id.js';
import type { GitInfo } from '../record/git-info.js';
import { runDir, RunRecorder } from '../record/run-record.js';
import { emptyCounts, succeeded, type EventSink, type OutcomeKind, type RunEvent, type RunStatus, type SkipCause, type StageOutcome } from '../core/run-events.js';
import { describeStageReason } from '../report/describe.js';
import { newRunRecord } from '../run/run-pipeline.js';
import { cachedPoints, type TimedPoint } from './cached-points.js';
import type { SweepSink } from './events.js';
import { objectiveValue, objectivesOf } from './objective.js';
import { memberRole, type SweepPlan, type TrialPlan, type Unit } from './plan.js';
import { bestTrials, newSweepRecord, writeSweepRecord, type SweepRecord, type TrialRecord } from './record.js';
import type { SweepTracking } from './tracking.js';
import { writeRunFiles } from '../run/run-files.js';
import { secretMasker } from '../track/index.js';
import { trialRunName } from '../run/run-label.js';
import { createWorkspace, sweepsDir, workspaceLayout, workspacePaths } from './workspace.js';
import type { TrialSource } from './trial-source.js';
import { ReadyUnits } from './ready-units.js';

export interface SweepRunOptions {
  jobs: number;
  /** GPU devices to hand out; undefined: massflow does not manage GPUs. */
  gpus: string[] | undefined;
  keepGoing: boolean;
  force: boolean;
  /** Trials admitted at once; undefined: all. */
  concurrency: number | undefined;
  argv: string[];
  executor: Executor;
  git: GitInfo;
}

interface TrialState {
  plan: TrialPlan;
  name: string;
  admitted: boolean;
  done: boolean;
  /** Work for the trial's record and tracking, kept until the trial is admitted. */
  backlog: (() => void)[];
  recorder: RunRecorder | undefined;
  emit: EventSink;
  rc: Promise<StageRunContext> | undefined;
  restored: Map<Unit, Promise<void>>;
  settled: number;
  /** The first of its stages that failed or was skipped: a trial with one cannot succeed. */
  brokenAt: StageId | undefined;
  counts: { ran: number; shared: number; cached: number };
  startedAt: number;
  status: RunStatus | undefined;
  /** Its value of each objective (null: not reported), once it succeeded. */
  values: (number | null)[];
  /** Aborted when the trial is pruned: stops the units it runs, through the stages' stop contract. */
  stop: AbortController;
  prunedAt: { id: StageId; step: number } | undefined;
}

export async function runSweep(
  project: Project,
  plan: SweepPlan,
  opts: SweepRunOptions,
  sink: SweepSink,
  tracking: SweepTracking | undefined,
  signal: AbortSignal,
  source?: TrialSource,
): Promise<SweepRecord> {
  const started = Date.now();
  const exp = plan.experiment;
  const objectives = objectivesOf(exp.spec.objective);
  const layout = project.layout;
  const wsRoot = join(sweepsDir(layout), plan.sweepId);
  const backend = backendLabel(plan.backend);
  const pool = ResourcePool.forMachine(opts.jobs, totalmem(), opts.gpus);
  // Twice the job slots in flight: the resource pool still lets only `jobs` stages execute at once,
  // while the others take locks and restore their inputs into their trial's workspace meanwhile.
  const queue = new PQueue({ concurrency: 2 * Math.max(1, opts.jobs) });
  const abort = new AbortController();
  const onAbort = () => { sink({ type: 'sweep-interrupt', at: Date.now() }); abort.abort(); };
  if (signal.aborted) onAbort(); else signal.addEventListener('abort', onAbort, { once: true });

  const outcomes = new Map<Unit, StageOutcome>();
  const points = new Map<Unit, TimedPoint[]>();
  const newState = (t: TrialPlan): TrialState => ({
    plan: t, name: t.trial.name, admitted: false, done: false, backlog: [], recorder: undefined, emit: () => {},
    rc: undefined, restored: new Map(), settled: 0, brokenAt: undefined, counts: { ran: 0, shared: 0, cached: 0 },
    startedAt: 0, status: undefined, values: [], stop: new AbortController(), prunedAt: undefined,
  });
  const states = plan.trials.map(newState);
  const stateOf = new Map(states.map((s) => [s.plan, s] as const));
  let wake: () => void = () => {};

  const record = newSweepRecord(plan, opts.argv, started, relative(layout.root, wsRoot), states.map((s) => trialEntry(s)));
  await writeSweepRecord(layout.runsDir, record);

  const toRun = plan.units.filter((u) => u.decision.kind === 'run');
  sink({
    type: 'sweep-start', sweepId: plan.sweepId, experiment: exp.name, file: exp.file, pipeline: exp.pipelineFile,
    trials: states.length + (source?.budget ?? 0), units: { run: toRun.length, cached: plan.units.length - toRun.length },
    shared: toRun.reduce((n, u) => n + u.members.length - 1, 0),
    jobs: opts.jobs, concurrency: opts.concurrency ?? null, executor: opts.executor.name, at: started,
  });
  tracking?.sweepStarted(exp.name, {
    'massflow.sweep_id': plan.sweepId, 'massflow.experiment_file': exp.file, 'massflow.pipeline': exp.pipelineFile,
    ...(objectives.length ? { 'massflow.objective': objectives.map((o) => `${o.metric} (${o.direction})`).join(', ') } : {}),
  });

  /** Runs `fn` against the trial's record now if it is admitted, else when it is. */
  const deliver = (s: TrialState, fn: () => void) => { if (s.admitted) fn(); else s.backlog.push(fn); };

  const admit = (s: TrialState) => {
    s.admitted = true;
    s.startedAt = Date.now();
    const rec = newRunRecord({
      runId: s.plan.runId,
      pipeline: s.plan.pipeline,
      plan: s.plan.pipeline.stages.map((st) => ({ id: st.id, fingerprint: s.plan.fingerprints.get(st.id)! })),
      lockfile: plan.lockfile,
      backend: plan.backend,
      executor: opts.executor.name,
      argv: opts.argv,
      targets: exp.spec.targets ?? [],
      overrides: s.plan.overrides,
      profiles: exp.profiles,
      git: opts.git,
      startedAt: s.startedAt,
      sweep: { id: plan.sweepId, trial: s.name },
    });
    const dir = runDir(layout.runsDir, s.plan.runId);
    const recorder = new RunRecorder(dir, rec);
    s.recorder = recorder;
    const tracked = tracking?.trialSink({ name: s.name, label: trialRunName(s.name, s.plan.trial.point), runId: s.plan.runId, pipeline: s.plan.pipeline, fingerprints: s.plan.fingerprints, runDir: dir }, {
      'massflow.sweep_id': plan.sweepId,
      ...(s.plan.trial.ablation ? { 'massflow.ablation': s.plan.trial.ablation } : {}),
      'massflow.overrides': Object.entries(s.plan.trial.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ').slice(0, 4000),
    });
    s.emit = (e: RunEvent) => {
      recorder.sink(e);
      tracked?.(e);
      if (e.type === 'stage-metric') {
        // Points of a unit running here now; replays into the trials that share it come later.
        const u = s.plan.unitOf.get(e.id);
        if (u && u.owner === s.plan && u.decision.kind === 'run' && !outcomes.has(u)) {
          (points.get(u) ?? points.set(u, []).get(u)!).push({ key: e.key, value: e.value, step: e.step, timestamp: e.timestamp });
          source?.metric(s.plan, e.id, e.key, e.value, e.step, (step) => prune(s, e.id, step));
        }
      } else if (e.type === 'stage-start' || e.type === 'stage-wait' || e.type === 'stage-warning') {
        const u = s.plan.unitOf.get(e.id);
        sink({ type: 'unit', trial: s.name, sharedBy: u ? u.members.length - 1 : 0, event: e });
      }
    };
    s.emit({ type: 'run-start', runId: s.plan.runId, pipeline: s.plan.pipeline.name, file: s.plan.pipeline.file, plan: [], jobs: opts.jobs, executor: opts.executor.name, at: s.startedAt });
    for (const fn of s.backlog.splice(0)) fn();
    for (const u of parked.get(s) ?? []) ready.push(u);
    parked.delete(s);
    maybeFinish(s);
  };

  // Trials are admitted in order; `active` counts those admitted and not done.
  let nextToAdmit = 0, active = 0, done = 0;
  const admitMore = () => {
    const limit = opts.concurrency ?? plan.trials.length;
    while (nextToAdmit < plan.trials.length && active < limit) {
      active++;
      admit(states[nextToAdmit++]!);
    }
  };

  const maybeFinish = (s: TrialState) => {
    if (!s.admitted || s.done || s.settled < s.plan.pipeline.stages.length) return;
    s.done = true;
    done++;
    active--;
    const counts = emptyCounts();
    const rec = s.recorder!.record;
    for (const st of Object.values(rec.stages)) if (st.outcome in counts) counts[st.outcome as OutcomeKind]++;
    // Pruned also when the decision came while the judged stage was committing what it had
    // finished: nothing was left to stop, but the stages after it were not started.
    s.status = abort.signal.aborted && counts.cancelled > 0 ? 'cancelled' : s.brokenAt === undefined ? 'succeeded' : counts.failed === 0 && (counts.pruned > 0 || s.prunedAt !== undefined) ? 'pruned' : 'failed';
    s.emit({ type: 'run-end', status: s.status, durationMs: Date.now() - s.startedAt, counts, at: Date.now() });
    s.values = s.status === 'succeeded' ? objectives.map((o) => objectiveValue(rec, o.metric)) : objectives.map(() => null);
    const flushed = s.recorder!.flush();
    finishing.push(flushed.then(() => tracking?.trialEnded(s.name, s.status!, s.values)));
    // Told now, before the next trial is asked, so the sampler knows how this one ended.
    if (source) finishing.push(source.ended(s.plan, s.status, s.values));
    sink({ type: 'trial-end', trial: s.name, runId: s.plan.runId, status: s.status, values: s.values, at: Date.now() });
    // Kept current as trials end, so a sweep killed midway still says which of them finished.
    record.trials = states.map((t) => trialEntry(t));
    saved = saved.then(() => writeSweepRecord(layout.runsDir, record)).catch(() => {});
    wake();
  };
  const finishing: Promise<void>[] = [];
  let saved = Promise.resolve();

  const rcOf = (s: TrialState): Promise<StageRunContext> => {
    s.rc ??= (async () => {
      const root = join(wsRoot, s.name);
      const paths = workspacePaths(s.plan.pipeline);
      await createWorkspace(layout.root, root, paths.outs, paths.keep);
      await writeRunFiles(root, s.plan.pipeline.runFiles);
      const ws = openProject(workspaceLayout(layout, root));
      ws.remote = project.remote; // the trial shares the project's cache, so its remote too
      return {
        project: ws, locks: new LockManager(ws.layout.locksDir), executor: opts.executor, pool,
        runId: s.plan.runId, logsDir: join(runDir(layout.runsDir, s.plan.runId), 'logs'), backend,
        emit: (e) => s.emit(e), signal: AbortSignal.any([abort.signal, s.stop.signal]), force: opts.force, redact: tracking?.redact ?? secretMasker(undefined),
      } satisfies StageRunContext;
    })();
    return s.rc;
  };

  /** Puts an upstream unit's outputs into the trial's workspace, unless they were produced there. */
  const restoreInto = (s: TrialState, rc: StageRunContext, v: Unit): Promise<void> => {
    if (v.owner === s.plan && v.decision.kind === 'run') return Promise.resolve();
    let p = s.restored.get(v);
    if (!p) {
      const outputs = outputsOf(outcomes.get(v)!);
      p = (async () => {
        for (const [path, o] of Object.entries(outputs)) await rc.project.objects.materialize(o, join(rc.project.layout.root, path));
      })();
      s.restored.set(v, p);
    }
    return p;
  };

  const execute = async (u: Unit, decision: Extract<Unit['decision'], { kind: 'run' }>): Promise<StageOutcome> => {
    const s = stateOf.get(u.owner)!;
    const started = Date.now();
    try {
      const rc = await rcOf(s);
      try {
        for (const v of u.upstream) await restoreInto(s, rc, v);
      } catch (e) {
        return { kind: 'failed', durationMs: Date.now() - started, failure: { kind: 'bookkeeping', step: 'trial-workspace', message: (e as Error).message }, logTail: [] };
      }
      const outcome = await runStage(rc, u.stage, { id: u.stage.id, fingerprint: u.fingerprint, decision });
      return outcome.kind === 'cancelled' && !abort.signal.aborted && s.prunedAt ? { kind: 'pruned', durationMs: Date.now() - started, step: s.prunedAt.step } : outcome;
    } catch (e) {
      return abort.signal.aborted ? { kind: 'cancelled' } : { kind: 'failed', durationMs: Date.now() - started, failure: { kind: 'executor', message: (e as Error).message }, logTail: [] };
    }
  };

  /** One trial learns how a unit it has ended: as its own run, shared from another trial, or cached. */
  const settleMember = (u: Unit, m: Unit['members'][number], outcome: StageOutcome) => {
    const s = stateOf.get(m.trial)!;
    const role = memberRole(m.trial, m.id);
    const own = role.kind === 'run';
    const mine: StageOutcome = own || !succeeded(outcome) ? outcome : { kind: 'fresh', outputs: outputsOf(outcome) };
    const kind = role.kind === 'run' ? 'ran' : role.kind === 'share' ? 'shared' : 'cached';
    if (succeeded(outcome)) s.counts[kind]++;
    else s.brokenAt ??= m.id;
    s.settled++;
    const unitPoints = [...(points.get(u) ?? [])];
    deliver(s, () => {
      const st = s.recorder!.record.stages[m.id];
      if (st && role.kind !== 'run') st.reason = describeStageReason(role.kind === 'share' ? { kind: 'shared', trial: role.owner } : { kind: 'cached-elsewhere', runId: role.runId });
      for (const p of own ? [] : unitPoints) {
        s.emit({ type: 'stage-metric', id: m.id, key: p.key, value: p.value, step: p.step, timestamp: p.timestamp });
        // The study learns this trial's curve too, so later pruning decisions weigh it. The unit is
        // done, so there is nothing to stop whatever the pruner says at these steps.
        source?.metric(s.plan, m.id, p.key, p.value, p.step, () => {});
      }
      s.emit({ type: 'stage-end', id: m.id, outcome: mine, at: Date.now() });
      if (role.kind === 'share' && succeeded(outcome)) tracking?.tagStage(s.name, m.id, { 'massflow.cache': 'shared', 'massflow.ran_in_trial': role.owner });
      if (role.kind === 'cached') tracking?.tagStage(s.name, m.id, { 'massflow.cache': 'cached', 'massflow.ran_in_run': role.runId });
    });
    maybeFinish(s);
  };

  const settle = (u: Unit, outcome: StageOutcome) => {
    outcomes.set(u, outcome);
    const ran = u.decision.kind === 'run';
    // A unit found in the cache (at planning, or by another process while it waited for a lock) did not run.
    if (outcome.kind === 'ran' || !succeeded(outcome)) record.units[outcome.kind === 'ran' ? 'ran' : outcome.kind]++;
    else record.units.cached++;
    if (ran || !succeeded(outcome)) {
      sink({ type: 'unit', trial: u.owner.trial.name, sharedBy: u.members.length - 1, event: { type: 'stage-end', id: u.stage.id, outcome, at: Date.now() } });
    }
    for (const m of u.members) settleMember(u, m, outcome);
    graph.settled(u);
    wake();
  };

  const upstreamCause = (u: Unit): SkipCause | undefined => {
    for (const v of u.upstream) {
      const o = outcomes.get(v)!;
      if (succeeded(o)) continue;
      if (o.kind === 'skipped' && o.cause.kind === 'upstream-failed') return o.cause;
      return { kind: 'upstream-failed', upstream: v.stage.id };
    }
    return undefined;
  };

  // Units become ready when their last upstream unit settles; a ready unit whose owner trial is
  // not admitted yet is parked with it. Each unit is looked at a bounded number of times.
  const graph = new ReadyUnits();
  graph.add(plan.units, () => false);
  const ready = graph.queue;
  const parked = new Map<TrialState, Unit[]>();

  const dispatch = () => {
    if (abort.signal.aborted) {
      for (const us of parked.values()) ready.push(...us);
      parked.clear();
    }
    while (ready.length) {
      const u = ready.shift()!;
      const cause = upstreamCause(u);
      if (abort.signal.aborted) { settle(u, { kind: 'cancelled' }); continue; }
      if (cause) { settle(u, { kind: 'skipped', cause }); continue; }
      if (u.decision.kind === 'cached') {
        const outputs = u.decision.entry.outs;
        void cachedPoints(project, u).catch(() => []).then((p) => { points.set(u, p); settle(u, { kind: 'fresh', outputs }); });
        continue;
      }
      const owner = stateOf.get(u.owner)!;
      if (!owner.admitted) { (parked.get(owner) ?? parked.set(owner, []).get(owner)!).push(u); continue; }
      // A failed trial stops what only it still needs (unless --keep-going), a pruned one always;
      // shared work goes on.
      const members = u.members.map((m) => stateOf.get(m.trial)!);
      if (members.every((m) => m.prunedAt !== undefined)) {
        settle(u, { kind: 'skipped', cause: { kind: 'trial-pruned', at: members[0]!.prunedAt!.id } });
        continue;
      }
      if (!opts.keepGoing && members.every((m) => m.brokenAt !== undefined || m.prunedAt !== undefined)) {
        settle(u, { kind: 'skipped', cause: { kind: 'run-stopped', after: members.find((m) => m.brokenAt !== undefined)!.brokenAt! } });
        continue;
      }
      const decision = u.decision;
      void queue.add(async () => settle(u, abort.signal.aborted ? { kind: 'cancelled' } : await execute(u, decision)));
    }
  };

  const prune = (s: TrialState, id: StageId, step: number) => {
    if (s.done || s.prunedAt) return;
    // The study answers each report asynchronously: a decision can arrive after every instance of
    // the judged stage has finished (its last epochs ran faster than the reply, or cached instances
    // completed the curve). It would stop nothing, only skip the cheap rest of a trial whose training
    // is done and leave it neither complete nor pruned, so it is not taken.
    const name = s.plan.pipeline.stages.find((st) => st.id === id)?.name;
    const judged = s.plan.pipeline.stages.filter((st) => st.name === name).map((st) => outcomes.get(s.plan.unitOf.get(st.id)!));
    if (judged.every((o) => o !== undefined && succeeded(o))) return;
    s.prunedAt = { id, step };
    s.stop.abort();
  };

  /** A trial the source asked: merged units wired into the DAG, admitted at once. */
  const addTrial = (t: TrialPlan, created: Unit[]) => {
    const s = newState(t);
    states.push(s);
    stateOf.set(t, s);
    record.units.total += created.length;
    graph.add(created, (v) => outcomes.has(v));
    active++;
    admit(s);
    // Units that had ended before this trial came: it learns their outcomes now, upstream first.
    const isNew = new Set(created);
    for (const st of t.pipeline.stages) {
      const u = t.unitOf.get(st.id)!;
      const o = outcomes.get(u);
      if (o && !isNew.has(u)) settleMember(u, { trial: t, id: st.id }, o);
    }
  };

  // An adaptive source is asked for one trial at a time, whenever fewer than `concurrency`
  // (default: the job slots) are in progress: no batch waits for its slowest trial.
  let asking = false, exhausted = !source, sourceError: string | undefined;
  const askMore = () => {
    if (!source || asking || exhausted) return;
    if (abort.signal.aborted) { exhausted = true; return; }
    if (active >= (opts.concurrency ?? opts.jobs)) return;
    asking = true;
    void source.next().catch((e: Error) => ({ kind: 'error' as const, message: e.message })).then((r) => {
      asking = false;
      if (r.kind === 'trial') addTrial(r.trial, r.created);
      else {
        exhausted = true;
        if (r.kind === 'error') { sourceError = r.message; sink({ type: 'sweep-error', message: r.message, at: Date.now() }); }
      }
      wake();
    });
  };

  while (done < states.length || !exhausted || asking) {
    const changed = new Promise<void>((r) => { wake = r; });
    admitMore();
    askMore();
    dispatch();
    if (done >= states.length && exhausted && !asking) break;
    await changed;
  }
  await queue.onIdle();
  await Promise.all(finishing);
  await saved;
  signal.removeEventListener('abort', onAbort);
  await opts.executor.close?.();

  record.trials = states.map((s) => trialEntry(s));
  // A pruned trial is a result of the search, not a failure of the sweep.
  record.status = abort.signal.aborted ? 'cancelled' : !sourceError && states.every((s) => s.status === 'succeeded' || s.status === 'pruned') ? 'succeeded' : 'failed';
  if (sourceError) record.error = sourceError;
  Object.assign(record, bestTrials(objectives, record.trials));
  record.endedAt = new Date().toISOString();
  record.durationMs = Date.now() - started;
  const pointOf = (trial: string) => states.find((s) => s.name === trial)?.plan.trial.point ?? {};
  tracking?.sweepEnded(record.status, record, pointOf);
  await writeSweepRecord(layout.runsDir, record);
  sink({ type: 'sweep-end', record });
  return record;
}

function trialEntry(s: TrialState): TrialRecord {
  return {
    name: s.name,
    runId: s.plan.runId,
    ablation: s.plan.trial.ablation ?? null,
    point: s.plan.trial.point,
    overrides: s.plan.overrides,
    status: s.status ?? 'pending',
    objective: s.values[0] ?? null,
    ...(s.values.length > 1 ? { values: s.values } : {}),
    stages: { ...s.counts },
  };
}

function outputsOf(o: StageOutcome): Record<string, StoredOutput> {
  return o.kind === 'ran' || o.kind === 'restored' || o.kind === 'fresh' ? o.outputs : {};
}
