// One `massflow run`: plan, record, schedule, and close the record. Rendering and tracking are
// event sinks handed in by the caller; this module prints nothing.
import { availableParallelism, hostname, totalmem } from 'node:os';
import { relative } from 'node:path';
import type { StageId } from '../core/brand.js';
import { removeLeftoversBeside } from '../cache/leftovers.js';
import { LockManager } from '../cache/locks.js';
import type { Executor } from '../exec/executor.js';
import { ResourcePool } from '../exec/resources.js';
import { schedule } from '../exec/scheduler.js';
import type { Project } from '../project/open.js';
import type { DiskPlan } from '../project/plan-from-disk.js';
import { emptyCounts, succeeded, type EventSink, type PlanEntry, type RunStatus, type StageOutcome } from '../core/run-events.js';
import { planFromDisk } from '../project/plan-from-disk.js';
import { withRunFiles } from './run-files.js';
import { gitInfo, type GitInfo } from '../record/git-info.js';
import { runDir, RunRecorder, RUN_RECORD_FORMAT, type RunRecord } from '../record/run-record.js';
import type { Digest, RunId } from '../core/brand.js';
import { digestOf } from '../cache/canonical.js';
import { decisionReason, type PlannedStage } from '../plan/decide.js';
import type { BackendId } from '../project/backend-id.js';
import type { Pipeline } from '../pipeline/model.js';
import { backendLabel } from '../project/backend-id.js';
import { logFileName } from '../project/layout.js';
import { cachedMetrics, replayedMetrics } from './cached-metrics.js';

export interface RunOptions {
  runId: RunId;
  jobs?: number | undefined;
  /** GPU devices to hand out (see exec/gpus.ts); undefined: massflow does not manage GPUs. */
  gpus?: string[] | undefined;
  keepGoing: boolean;
  force: boolean;
  argv: string[];
  targets: string[];
  overrides: string[];
  profiles?: string[] | undefined;
  sweep?: { id: string; trial: string } | undefined;
  /** Git facts, when the run's root is not the project's own (a rerun's mirrored workspace). */
  git?: GitInfo | undefined;
  rerunOf?: RunId | undefined;
  /** Masks known secrets in stage output; by default the tracking secrets in the environment. */
  redact?: ((text: string) => string) | undefined;
}

export interface RunResult { runId: RunId; status: RunStatus; outcomes: Map<StageId, StageOutcome>; record: RunRecord; dir: string }

export function planEntries(analysis: DiskPlan): PlanEntry[] {
  return analysis.plan.map((p) => ({ id: p.id, action: p.decision.kind, reason: decisionReason(p.decision) }));
}

export interface NewRunRecord {
  runId: RunId;
  pipeline: Pipeline;
  plan: readonly Pick<PlannedStage, 'id' | 'fingerprint'>[];
  lockfile: Digest | null;
  backend: BackendId;
  executor: string;
  argv: string[];
  targets: string[];
  overrides: string[];
  profiles?: string[] | undefined;
  git: GitInfo;
  startedAt: number;
  sweep?: { id: string; trial: string } | undefined;
  rerunOf?: RunId | undefined;
}

/** The record of a run about to start: every planned stage pending. Sweeps build trial records with it too. */
export function newRunRecord(r: NewRunRecord): RunRecord {
  return {
    format: RUN_RECORD_FORMAT,
    runId: r.runId,
    kind: 'pipeline',
    status: 'running',
    pipeline: { name: r.pipeline.name, file: r.pipeline.file, specDigest: r.pipeline.specDigest },
    spec: r.pipeline.specText,
    argv: r.argv,
    targets: r.targets,
    overrides: r.overrides,
    profiles: r.profiles,
    params: r.pipeline.params,
    git: r.git,
    lockfileDigest: r.lockfile,
    node: process.version,
    backend: r.backend,
    executor: r.executor,
    host: hostname(),
    startedAt: new Date(r.startedAt).toISOString(),
    endedAt: null,
    durationMs: null,
    stages: Object.fromEntries(r.plan.map((p) => [p.id, {
      fingerprint: p.fingerprint.digest,
      code: digestOf(p.fingerprint.object.code),
      outcome: 'pending',
      reason: '',
      startedAt: null,
      durationMs: null,
      outputs: {},
      metrics: {},
      artifacts: [],
      failure: null,
      skipped: null,
      log: `logs/${logFileName(p.id)}`,
    }])),
    sweep: r.sweep,
    rerunOf: r.rerunOf,
  };
}

export async function runPipeline(
  project: Project,
  pipeline: Pipeline,
  analysis: DiskPlan,
  executor: Executor,
  opts: RunOptions,
  sinks: EventSink[],
  signal: AbortSignal,
): Promise<RunResult> {
  const started = Date.now();
  const dir = runDir(project.layout.runsDir, opts.runId);
  const record = newRunRecord({
    runId: opts.runId,
    pipeline,
    plan: analysis.plan,
    lockfile: analysis.lockfile,
    backend: analysis.backend,
    executor: executor.name,
    argv: opts.argv,
    targets: opts.targets,
    overrides: opts.overrides,
    profiles: opts.profiles,
    git: opts.git ?? gitInfo(project.layout.root),
    startedAt: started,
    sweep: opts.sweep,
    rerunOf: opts.rerunOf,
  });
  const recorder = new RunRecorder(dir, record);
  const cached = await cachedMetrics(project.layout.runsDir, analysis.plan);
  const forward: EventSink = (e) => { recorder.sink(e); for (const s of sinks) s(e); };
  const emit: EventSink = (e) => { for (const m of replayedMetrics(cached, e)) forward(m); forward(e); };
  const jobs = opts.jobs ?? availableParallelism();
  emit({ type: 'run-start', runId: opts.runId, pipeline: pipeline.name, file: pipeline.file, plan: planEntries(analysis), jobs, executor: executor.name, at: started });

  const abort = new AbortController();
  const onAbort = () => { emit({ type: 'run-interrupt', at: Date.now() }); abort.abort(); };
  if (signal.aborted) onAbort(); else signal.addEventListener('abort', onAbort, { once: true });

  // A restore killed with an earlier runner left its staging beside the output, where a stage
  // reading the parent directory would see it.
  await removeLeftoversBeside(project.layout.root, pipeline.stages.flatMap((s) => [...s.outs, ...s.metrics]));
  // Only a stage that executes prints text to mask, so a run that executes nothing (the no-op run
  // a sweep pays per trial) does not load the tracking modules for the default masker.
  const redact = opts.redact ?? (analysis.plan.every((p) => p.decision.kind === 'fresh') ? undefined : (await import('../track/redactors.js')).secretMasker(undefined));
  const replan = async (stage: Pipeline['stages'][number]) => (await planFromDisk(project, { ...pipeline, stages: [stage] }, new Set([stage.id]), opts.force)).plan[0]!;
  const outcomes = await withRunFiles(project.layout.root, pipeline.runFiles, () => schedule({
    project,
    locks: new LockManager(project.layout.locksDir),
    executor,
    pool: ResourcePool.forMachine(jobs, totalmem(), opts.gpus),
    runId: opts.runId,
    logsDir: `${dir}/logs`,
    backend: backendLabel(analysis.backend),
    emit,
    signal: abort.signal,
    force: opts.force,
    redact,
    replan,
  }, pipeline, analysis.plan, { jobs, keepGoing: opts.keepGoing }));
  signal.removeEventListener('abort', onAbort);
  await executor.close?.();

  const counts = emptyCounts();
  for (const o of outcomes.values()) counts[o.kind]++;
  const status: RunStatus = abort.signal.aborted ? 'cancelled' : [...outcomes.values()].every(succeeded) ? 'succeeded' : 'failed';
  emit({ type: 'run-end', status, durationMs: Date.now() - started, counts, at: Date.now() });
  await recorder.flush();
  return { runId: opts.runId, status, outcomes, record, dir: relative(project.layout.root, dir) };
}
