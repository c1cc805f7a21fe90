// The Slurm executor for compute nodes that do not see the project directory (slurm.shared_fs:
// false). Each stage is a job that runs massflow in a working copy of its own (unshared-script.ts);
// the remote cache carries the stage's inputs to it and its result and log back. The runner here
// learns how a job ended from Slurm (squeue, then sacct), and a job that ended well from the
// remote's entry for the stage's fingerprint, whose outputs it then restores into the workspace as
// from a remote cache hit, so the run's record and workspace are what a local run leaves.
//
// Jobs are submitted at once with afterok dependencies on their upstream jobs, not when upstream
// finishes: Slurm then starts each as soon as it may, no slot waits on the login node, and a runner
// that loses its connection to the controller for a while delays nothing.
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import type { Digest } from '../../core/brand.js';
import type { Failure } from '../../core/run-events.js';
import type { Project } from '../../project/open.js';
import type { SlurmOptions } from '../../pipeline/schema.js';
import { getJobLog, maskAwsSecrets } from '../../remote/job-log.js';
import { fetchEntry } from '../../remote/pull.js';
import { targetOf, type RemoteCache } from '../../remote/remote-cache.js';
import type { Executor, ExecResult, StageJob, StageReporter, UpstreamJob } from '../executor.js';
import { stageLogLine } from '../executor.js';
import { sleep } from './executor.js';
import { sbatch, scancel, type JobId } from './commands.js';
import { JobStates, type JobView } from './job-state.js';
import type { JobFiles } from './job-script.js';
import { sbatchArgs } from './sbatch-args.js';
import type { UnsharedSetup } from './unshared-config.js';
import { jobLogKey, UNSHARED_EXIT, unsharedScript, type RunArgs } from './unshared-script.js';

export interface UnsharedTiming {
  /** How often Slurm is asked about the run's jobs (one squeue for all of them). */
  queuePollMs: number;
  /** How long a job Slurm no longer knows may stay unexplained before it counts as lost. */
  lostGraceMs: number;
  /** How long a job may stay pending for anything but its dependencies before it is cancelled and reported. */
  pendingLimitMs: number;
}

/** States in which the job is waiting for upstream jobs, which is no reason to give up on it. */
const WAITING_ON_UPSTREAM = /^Dependency$/;

export class UnsharedSlurmExecutor implements Executor {
  readonly name = 'slurm';
  readonly pipelined = true;
  private readonly states = new JobStates();
  /** Jobs seen to succeed: Slurm may forget them, so dependents do not name them. */
  private readonly succeeded = new Set<string>();
  private readonly remote: RemoteCache;

  constructor(private readonly project: Project, private readonly options: SlurmOptions, private readonly setup: UnsharedSetup, private readonly runArgs: RunArgs, private readonly timing: UnsharedTiming) {
    // unsharedSetup refuses a configuration without a remote, so the project has one here.
    this.remote = project.remote!;
  }

  async run(job: StageJob, report: StageReporter, signal: AbortSignal, upstream: readonly UpstreamJob[] = []): Promise<ExecResult> {
    await mkdir(dirname(job.logFile), { recursive: true });
    const log = createWriteStream(job.logFile, { flags: 'a' });
    const line = stageLogLine(log, report);
    try {
      if (signal.aborted) return { ok: false, failure: { kind: 'executor', message: 'cancelled before submission' } };
      const script = join(dirname(dirname(job.logFile)), 'slurm', `${basename(job.logFile, '.log')}.sh`);
      await mkdir(dirname(script), { recursive: true });
      await writeFile(script, unsharedScript(job, this.setup, this.runArgs));
      await chmod(script, 0o755);
      const afterOk = upstream.flatMap((u) => (u.jobId && !this.succeeded.has(u.jobId) ? [u.jobId as JobId] : []));
      // The node's scratch directory is the job's own business; /tmp exists on every node, the
      // project directory does not. Slurm's output goes nowhere: the script keeps its own log.
      const files: JobFiles = { script, job: '', events: undefined, out: '/dev/null', marker: '' };
      const r = await sbatch(sbatchArgs({ ...job, projectDir: '/tmp' }, this.options, files, afterOk));
      if (!r.ok) { line(r.message); return { ok: false, failure: { kind: 'executor', message: r.message } }; }
      report.submitted?.(r.jobId);
      const result = await this.watch(r.jobId, job, line, signal);
      if (result.ok) this.succeeded.add(r.jobId);
      return result;
    } finally {
      await new Promise<void>((r) => log.end(r));
    }
  }

  /** Waits for the job to end (or be lost, or stay pending too long), then settles it from the remote. */
  private async watch(id: JobId, job: StageJob, line: (l: string) => void, signal: AbortSignal): Promise<ExecResult> {
    const fail = (failure: Failure): ExecResult => ({ ok: false, failure, jobId: id });
    let goneSince: number | undefined;
    let pendingSince: number | undefined;
    let unreachableSaid = false;
    for (;;) {
      if (signal.aborted) {
        await scancel([id]);
        return fail({ kind: 'executor', message: `cancelled (scancel ${id})` });
      }
      const view = await this.states.get(id);
      const now = Date.now();
      switch (view.kind) {
        case 'unreachable':
          if (!unreachableSaid) line(`massflow: squeue does not answer (${view.message}); still waiting for job ${id}`);
          unreachableSaid = true;
          break;
        case 'live':
          goneSince = undefined;
          if (view.state !== 'PENDING' || WAITING_ON_UPSTREAM.test(view.reason)) { pendingSince = undefined; break; }
          pendingSince ??= now;
          if (now - pendingSince >= this.timing.pendingLimitMs) {
            await scancel([id]);
            return fail({ kind: 'executor', message: `Slurm job ${id} stayed pending (${view.reason || 'no reason given'}) for ${Math.round((now - pendingSince) / 1000)} s, past MASSFLOW_SLURM_PENDING_LIMIT_MS; cancelled` });
          }
          break;
        case 'ended':
          return this.settle(id, job, view, line);
        case 'unknown':
          // Forgotten by squeue and sacct: it ran and was purged, or the controller lost it. The
          // remote still tells whether it delivered.
          goneSince ??= now;
          if (now - goneSince >= this.timing.lostGraceMs) return this.settle(id, job, view, line);
          break;
      }
      await sleep(this.timing.queuePollMs, signal);
    }
  }

  /** The job ended: its log comes back from the remote, and its result is restored when the remote has it. */
  private async settle(id: JobId, job: StageJob, view: JobView, line: (l: string) => void): Promise<ExecResult> {
    const fail = (message: string): ExecResult => ({ ok: false, failure: { kind: 'executor', message }, jobId: id });
    const text = await getJobLog(this.remote.store, jobLogKey(job)).catch((e: Error) => { line(`massflow: the job's log could not be read from ${this.remote.url}: ${e.message}`); return ''; });
    if (text === undefined) line(`massflow: job ${id} sent no log to ${this.remote.url}/${jobLogKey(job)}`);
    else for (const l of maskAwsSecrets(text).replace(/\n$/, '').split('\n')) line(l);

    const ended = view.kind === 'ended' ? view.state : undefined;
    if (ended === undefined || ended === 'COMPLETED') {
      const restored = await this.restore(job).catch((e: Error) => `restoring its result failed: ${e.message}`);
      if (restored === true) return { ok: true };
      if (ended === undefined) return fail(`Slurm job ${id} is no longer known to Slurm, and the remote has no result for it: lost`);
      return fail(`Slurm job ${id} completed, but ${restored}`);
    }
    const exit = await this.exitCode(id, view);
    const what = `Slurm job ${id} ended ${ended}${exit !== undefined ? ` (exit ${exit})` : ''}`;
    if (ended === 'FAILED') {
      switch (exit) {
        case 1: return fail(`${what}: the stage failed on the node (its log above)`);
        case 2: return fail(`${what}: massflow in the job refused the pipeline or its command line (its log above)`);
        case UNSHARED_EXIT.checkout: return fail(`${what}: it could not make its working copy of the project (slurm.checkout; its log above)`);
        case UNSHARED_EXIT.scratch: return fail(`${what}: it could not make a scratch directory on its node (SLURM_TMPDIR, TMPDIR or /tmp)`);
        default: return fail(what);
      }
    }
    if (view.kind === 'ended' && view.reason === 'DependencyNeverSatisfied') return fail(`${what}: an upstream job failed`);
    switch (ended) {
      case 'TIMEOUT': return fail(`${what}: it ran past its time limit (resources.time)`);
      case 'OUT_OF_MEMORY': return fail(`${what}: it ran out of memory (resources.memory)`);
      case 'CANCELLED': return fail(`${what}: cancelled outside this run`);
      default: return fail(what);
    }
  }

  /** The job's exit code, as sacct gave it (ExitCode=N:S) or scontrol still knows it. */
  private async exitCode(id: JobId, view: JobView): Promise<number | undefined> {
    const m = view.kind === 'ended' ? /ExitCode=(\d+):/.exec(view.reason) : null;
    if (m) return Number(m[1]);
    return (await this.states.details(id)).exitCode;
  }

  /**
   * True once the remote's entry for the stage's fingerprint is in the local cache and its outputs
   * are in the workspace; otherwise why not. Asked afresh: planning saw no entry, and remembers so.
   */
  private async restore(job: StageJob): Promise<true | string> {
    const rel = (paths: readonly string[]) => paths.map((p) => relative(job.projectDir, p));
    const target = targetOf({ id: job.id, outs: rel(job.outs), metrics: rel(job.metrics) }, job.fingerprint as Digest);
    if (!(await fetchEntry(this.remote.store, target))) {
      return `the remote has no result for this stage's fingerprint: the job's working copy differs from this project (uncommitted changes, or slurm.checkout.commit), or its push failed (its log above)`;
    }
    const pulled = await this.remote.pull([target]);
    const entry = pulled.pulled[0] ?? (await this.project.entries.getComplete(target.fingerprint));
    if (!entry) return `pulling its result failed: ${pulled.problems[0]?.message ?? pulled.unreachable ?? 'the remote entry vanished'}`;
    for (const [path, out] of Object.entries(entry.outs)) {
      const dest = join(job.projectDir, path);
      // The stat cache learns what was written, so the commit that follows does not read it again.
      await this.project.stat.record(dest, await this.project.objects.materialize(out, dest));
    }
    return true;
  }
}
