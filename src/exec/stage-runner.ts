// One stage, start to end: take the locks on its outputs, look in the cache again (another run may
// have produced it meanwhile), then restore or run it and commit its outputs. Outputs enter the
// store and the cache entry is written only after the stage succeeded and every object is in place.
import { mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { StageId } from '../core/brand.js';
import { processStart, type LockManager, type Lock } from '../cache/locks.js';
import type { StoredOutput } from '../cache/store.js';
import type { ContentDigest } from '../cache/digest-path.js';
import { staleOutputs, type PlannedStage } from '../plan/decide.js';
import type { Project } from '../project/open.js';
import { logFileName } from '../project/layout.js';
import { outputPaths, type StageInstance } from '../pipeline/model.js';
import { openCmdChannel, undeclaredSummaries, withoutStreamed } from './channel/cmd-channel.js';
import type { StageChannel } from './channel/follow.js';
import { stdoutMetricsReader } from './channel/stdout-metrics.js';
import type { Executor, StageJob, StageReporter, UpstreamJob } from './executor.js';
import { readMetricsFile } from './metrics-file.js';
import type { BookkeepingStep, EventSink, Failure, RemoteNote, StageOutcome } from '../core/run-events.js';
import type { ResourcePool } from './resources.js';
import { restoreFromRemote } from './remote-restore.js';

export interface StageRunContext {
  project: Project;
  locks: LockManager;
  executor: Executor;
  pool: ResourcePool;
  runId: string;
  logsDir: string;
  backend: string;
  emit: EventSink;
  signal: AbortSignal;
  force: boolean;
  /**
   * Plans a `depsByContent` stage again from the workspace as it is now, its upstream stages done
   * (their outputs are its deps); without it the plan made before the run stands.
   */
  replan?: (stage: StageInstance) => Promise<PlannedStage>;
  /** Masks known secret values in a stage's output before it is stored, shown or uploaded. */
  redact?: ((text: string) => string) | undefined;
}

const LOG_TAIL = 20;

/** For a pipelined executor: the upstream stages' batch jobs, and whom to tell once this stage is submitted. */
export interface StageChain {
  upstream: readonly UpstreamJob[];
  onSubmitted(jobId: string): void;
}

export async function runStage(rc: StageRunContext, stage: StageInstance, plannedBefore: PlannedStage, chain?: StageChain): Promise<StageOutcome> {
  const { project, emit } = rc;
  const root = project.layout.root;
  const planned = stage.depsByContent && rc.replan ? await rc.replan(stage) : plannedBefore;
  const fp = planned.fingerprint;
  if (planned.decision.kind === 'fresh') return { kind: 'fresh', outputs: planned.decision.entry.outs, fromRun: planned.decision.entry.runId };

  const held: Lock[] = [];
  const started = Date.now();
  const step: Step = { current: 'lock' };
  try {
    for (const out of outputPaths(stage)) {
      held.push(await rc.locks.acquire(out, { runId: rc.runId, stage: stage.id }, (owner) => emit({ type: 'stage-wait', id: stage.id, resource: out, owner, at: Date.now() }), rc.signal));
    }
    // The lock may have been held by a run producing exactly this: use its result.
    step.current = 'restore';
    const local = rc.force || !stage.cache || planned.decision.kind === 'run' && stage.restore === 'last-run' ? undefined : await project.entries.getComplete(fp.digest);
    const fetched = local || rc.force || !stage.cache || stage.restore === 'last-run' ? undefined : await restoreFromRemote(project, stage, fp.digest);
    const remote = fetched?.kind === 'fetched' ? fetched : undefined;
    const entry = local ?? remote?.entry;
    if (entry) {
      const workspace = new Map<string, ContentDigest>();
      for (const path of Object.keys(entry.outs)) workspace.set(path, await project.stat.digestOnly(join(root, path)));
      const stale = staleOutputs(entry.outs, workspace);
      if (!stale.length) return { kind: 'fresh', outputs: entry.outs, fromRun: entry.runId };
      emit({ type: 'stage-start', id: stage.id, action: 'restore', reason: { kind: 'outputs-missing', outs: stale }, ...(remote ? { remote: remote.note } : {}), at: Date.now() });
      for (const path of stale) {
        // The stat cache learns what was written (no second read of it), so status stays fast.
        await project.stat.record(join(root, path), await project.objects.materialize(entry.outs[path]!, join(root, path)));
      }
      await project.fingerprints.put(stage.id, fp.object);
      return { kind: 'restored', durationMs: Date.now() - started, outs: stale, outputs: entry.outs, fromRun: entry.runId, ...(remote ? { from: 'remote' as const } : {}) };
    }
    step.current = 'prepare';
    return await execute(rc, stage, planned, started, chain, step, held, fetched?.kind === 'refused' ? fetched.note : undefined);
  } catch (e) {
    if (rc.signal.aborted) return { kind: 'cancelled' };
    return { kind: 'failed', durationMs: Date.now() - started, failure: unexpected(step, (e as Error).message), logTail: [] };
  } finally {
    for (const l of held) await l.release();
  }
}

/** Which part of a stage is under way, so an unexpected throw is filed under what it interrupted. */
interface Step { current: BookkeepingStep | 'run' | 'commit' }

function unexpected(step: Step, message: string): Failure {
  switch (step.current) {
    case 'run': return { kind: 'executor', message };
    case 'commit': return { kind: 'commit', message };
    default: return { kind: 'bookkeeping', step: step.current, message };
  }
}

async function execute(rc: StageRunContext, stage: StageInstance, planned: PlannedStage, started: number, chain: StageChain | undefined, step: Step, held: readonly Lock[], remoteNote?: RemoteNote): Promise<StageOutcome> {
  const { project, emit } = rc;
  const root = project.layout.root;
  const fit = rc.pool.fit(stage.resources);
  if (!fit.ok) return { kind: 'failed', durationMs: 0, failure: { kind: 'resources', ...fit.short }, logTail: [] };
  const grant = await rc.pool.acquire(fit.grant, rc.signal);
  const tail: string[] = [];
  let channel: StageChannel | undefined;
  try {
    emit({ type: 'stage-start', id: stage.id, action: 'run', reason: planned.decision.kind === 'run' ? planned.decision.reason : { kind: 'entry-vanished' }, ...(remoteNote ? { remote: remoteNote } : {}), at: Date.now(), ...(grant.devices ? { devices: grant.devices } : {}) });
    const logFile = join(rc.logsDir, logFileName(stage.id));
    const job: StageJob = {
      id: stage.id,
      runId: rc.runId,
      projectDir: root,
      impl: stage.impl,
      params: stage.params,
      vars: stage.vars,
      deps: stage.deps.map((p) => join(root, p)),
      outs: stage.outs.map((p) => join(root, p)),
      metrics: stage.metrics.map((p) => join(root, p)),
      env: stage.env,
      resources: stage.resources,
      slurm: stage.slurm,
      backend: rc.backend,
      logFile,
      stopGraceMs: stage.stopGraceMs,
      ...(stage.impl.kind === 'cmd' ? { eventsFile: eventsFileOf(logFile) } : {}),
      ...(grant.devices ? { devices: grant.devices } : {}),
      fingerprint: planned.fingerprint.digest,
    };
    // Work an earlier runner left under way (a batch job still queued or running) is adopted, and
    // what it has written so far must stay.
    const adopting = (await rc.executor.adopts?.(job, chain?.upstream ?? [])) ?? false;
    // Stale outputs must not masquerade as this run's: a stage that forgets to write one fails.
    // Parent directories are created, like Snakemake does, so a command can write its out directly.
    const persist = new Set(stage.persist ?? []);
    for (const out of outputPaths(stage)) {
      if (!adopting && !persist.has(out)) await rm(join(root, out), { recursive: true, force: true });
      await mkdir(dirname(join(root, out)), { recursive: true });
    }
    const lineMetric = stage.stdoutMetrics ? stdoutMetricsReader(stage.stdoutMetrics) : undefined;
    const report: StageReporter = {
      log: (line) => {
        tail.push(line);
        if (tail.length > LOG_TAIL) tail.shift();
        emit({ type: 'stage-log', id: stage.id, line, at: Date.now() });
        const p = lineMetric?.(line);
        if (p) emit({ type: 'stage-metric', id: stage.id, key: p.key, value: p.value, step: p.step, timestamp: Date.now() });
      },
      metric: (key, value, step, timestamp) => emit({ type: 'stage-metric', id: stage.id, key, value, step, timestamp }),
      artifact: (path, name) => emit({ type: 'stage-artifact', id: stage.id, path, name }),
      progress: (done, total) => emit({ type: 'stage-progress', id: stage.id, done, total, at: Date.now() }),
      warn: (message) => emit({ type: 'stage-warning', id: stage.id, message, at: Date.now() }),
      // A runner killed later leaves this group to whoever takes the locks over: they stop it first.
      processGroup: (pgid) => { for (const l of held) void l.annotate({ stageGroup: { pgid, procStart: processStart(pgid) } }); },
      ...(rc.redact ? { redact: rc.redact } : {}),
      ...(chain ? { submitted: chain.onSubmitted } : {}),
    };
    if (job.eventsFile) channel = await openCmdChannel(stage, root, job.eventsFile, report);
    step.current = 'run';
    const result = await rc.executor.run(job, report, rc.signal, chain?.upstream);
    await channel?.stop();
    if (rc.signal.aborted) return { kind: 'cancelled' };
    if (!result.ok) return { kind: 'failed', durationMs: Date.now() - started, failure: result.failure, logTail: [...tail], ...(result.jobId ? { jobId: result.jobId } : {}), ...(result.usage ? { usage: result.usage } : {}) };

    step.current = 'commit';
    const outputs: Record<string, StoredOutput> = {};
    const missing: string[] = [];
    for (const out of outputPaths(stage)) {
      const d = await project.stat.digest(join(root, out));
      const stored = await project.objects.putOutput(join(root, out), d);
      if (stored) outputs[out] = stored; else missing.push(out);
    }
    if (missing.length) return { kind: 'failed', durationMs: Date.now() - started, failure: { kind: 'missing-output', paths: missing }, logTail: [...tail] };
    const streamed = channel?.dvcliveKeys ?? new Set<string>();
    for (const m of stage.metrics) {
      const r = await readMetricsFile(join(root, m));
      if (!r.ok) return { kind: 'failed', durationMs: Date.now() - started, failure: { kind: 'stage-error', message: r.message }, logTail: [...tail] };
      for (const p of withoutStreamed(r.points, streamed)) emit({ type: 'stage-metric', id: stage.id, key: p.key, value: p.value, step: p.step, timestamp: Date.now() });
    }
    if (channel) {
      for (const p of await undeclaredSummaries(stage, root, started, streamed)) emit({ type: 'stage-metric', id: stage.id, key: p.key, value: p.value, step: p.step, timestamp: Date.now() });
    }
    const durationMs = Date.now() - started;
    if (stage.cache) {
      await project.entries.put({ format: 1, fingerprint: planned.fingerprint.digest, stage: stage.id, outs: outputs, runId: rc.runId as never, createdAt: new Date().toISOString(), durationMs });
    }
    await project.fingerprints.put(stage.id, planned.fingerprint.object);
    return { kind: 'ran', durationMs, outputs, ...(result.usage ? { usage: result.usage } : {}) };
  } finally {
    await channel?.stop();
    grant.release();
  }
}

/** runs/<id>/logs/<stage>.log -> runs/<id>/events/<stage>.jsonl */
const eventsFileOf = (logFile: string) => join(dirname(dirname(logFile)), 'events', `${basename(logFile, '.log')}.jsonl`);
