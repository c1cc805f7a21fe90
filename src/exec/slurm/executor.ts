// The Slurm executor: each stage is one batch job running against the shared project directory.
// A job's outcome comes from the exit-code marker its wrapper writes, with squeue/sacct/scontrol
// for the jobs that end without one (cancelled, timed out, never launched) or vanish (lost). While
// a job runs, its output and its stage's events are followed from files, so logs, metrics and
// progress reach the runner as they do locally.
import { createWriteStream, type WriteStream } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { constants } from 'node:os';
import type { Project } from '../../project/open.js';
import type { Pipeline } from '../../pipeline/model.js';
import type { SlurmOptions } from '../../pipeline/schema.js';
import type { Executor, ExecResult, StageJob, StageReporter, UpstreamJob } from '../executor.js';
import { stageLogLine } from '../executor.js';
import type { Failure } from '../../core/run-events.js';
import type { FromChild } from '../stage-protocol.js';
import { sbatch, scancel, type JobId } from './commands.js';
import { FileTail } from '../channel/file-tail.js';
import { jobFiles, WRAPPER_EXIT, wrapperScript } from './job-script.js';
import { JobStates, type JobView } from './job-state.js';
import { sbatchArgs } from './sbatch-args.js';
import { Submissions, type Submission } from './submissions.js';

export interface SlurmTiming {
  /** How often the job's files (marker, output, events) are read. */
  filePollMs: number;
  /** How often Slurm is asked about a job; kept low on real clusters, where squeue is shared. */
  queuePollMs: number;
  /**
   * How long a job Slurm reports finished (or no longer knows) may go without its marker before it
   * counts as failed or lost: a shared filesystem may show the compute node's write late.
   */
  markerGraceMs: number;
}

export const DEFAULT_TIMING: SlurmTiming = { filePollMs: 250, queuePollMs: 5000, markerGraceMs: 30_000 };

/** Slurm states after which the wrapper certainly wrote no marker: no point waiting for one. */
const KILLED = new Set(['CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE', 'REVOKED']);

export class SlurmExecutor implements Executor {
  readonly name = 'slurm';
  readonly pipelined = true;
  private readonly states = new JobStates();
  private readonly submissions: Submissions;
  /** Submissions `adopts` judged live, by fingerprint, for the `run` that follows it. */
  private readonly adopted = new Map<string, Submission>();
  private readonly cancelBatch = new Batch<JobId>((ids) => scancel(ids).then(() => undefined));
  /** Exit-code marker of every job this executor watched, to drop dependencies already met. */
  private readonly markers = new Map<JobId, string>();

  constructor(stateDir: string, private readonly options: SlurmOptions, private readonly timing: SlurmTiming = DEFAULT_TIMING) {
    this.submissions = new Submissions(stateDir);
  }

  static forProject(project: Project, pipeline: Pipeline, timing: SlurmTiming = DEFAULT_TIMING): SlurmExecutor {
    return new SlurmExecutor(join(project.layout.massflowDir, 'slurm'), pipeline.slurm, timing);
  }

  async adopts(job: StageJob, upstream: readonly UpstreamJob[]): Promise<boolean> {
    if (!job.fingerprint) return false;
    const s = await this.submissions.get(job.fingerprint);
    if (!s) return false;
    if (await this.stillGood(s, upstream)) {
      this.adopted.set(job.fingerprint, s);
      return true;
    }
    await this.submissions.remove(s);
    return false;
  }

  /** Whether an earlier runner's job will still produce this stage: finished well, or under way. */
  private async stillGood(s: Submission, upstream: readonly UpstreamJob[]): Promise<boolean> {
    const marker = await readMarker(s.files.marker);
    // A job that failed while no runner watched is run again: the rerun is what the user asked for.
    if (marker !== undefined) return marker === 0;
    const view = await this.states.get(s.jobId);
    if (view.kind === 'unreachable') return true; // it may well be running; watching will tell
    if (view.kind !== 'live') return false;
    // Slurm treats a dependency on a job it no longer knows as satisfied, so a pending job waiting
    // on other jobs than the current upstream ones could start too early: replace it.
    const current = await this.unmet(upstream);
    if (view.state === 'PENDING' && !current.every((id) => s.afterOk.includes(id))) {
      await this.cancelBatch.add(s.jobId);
      return false;
    }
    return true;
  }

  async run(job: StageJob, report: StageReporter, signal: AbortSignal, upstream: readonly UpstreamJob[] = []): Promise<ExecResult> {
    const log = await openLog(job.logFile);
    const line = stageLogLine(log, report);
    try {
      let s = job.fingerprint ? this.adopted.get(job.fingerprint) : undefined;
      if (s) {
        this.adopted.delete(job.fingerprint!);
        line(`massflow: re-attached to Slurm job ${s.jobId}, submitted by run ${s.runId}`);
      } else {
        if (signal.aborted) return { ok: false, failure: { kind: 'executor', message: 'cancelled before submission' } };
        const sub = await this.submit(job, upstream);
        if (!sub.ok) { line(sub.message); return { ok: false, failure: { kind: 'executor', message: sub.message } }; }
        s = sub.submission;
      }
      this.markers.set(s.jobId, s.files.marker);
      report.submitted?.(s.jobId);
      const result = await this.watch(s, job, line, report, signal);
      await this.submissions.remove(s);
      return result;
    } finally {
      await new Promise<void>((r) => log.end(r));
    }
  }

  private async submit(job: StageJob, upstream: readonly UpstreamJob[]): Promise<{ ok: true; submission: Submission } | { ok: false; message: string }> {
    const files = jobFiles(job);
    // Slurm cannot create the output's directory: a job whose -o path is missing fails to launch
    // and leaves no trace of why.
    await mkdir(dirname(files.out), { recursive: true });
    await rm(files.marker, { force: true });
    if (files.events) await rm(files.events, { force: true });
    await writeFile(files.job, JSON.stringify(job));
    await writeFile(files.script, wrapperScript(job, files));
    await chmod(files.script, 0o755);
    const afterOk = await this.unmet(upstream);
    const r = await sbatch(sbatchArgs(job, this.options, files, afterOk));
    if (!r.ok) return r;
    const submission: Submission = {
      format: 1, fingerprint: job.fingerprint ?? '', stage: job.id, runId: job.runId, jobId: r.jobId, afterOk,
      submittedAt: new Date().toISOString(), files,
    };
    if (job.fingerprint) await this.submissions.put(submission);
    return { ok: true, submission };
  }

  /**
   * Upstream jobs still to wait for. One that already succeeded is left out: Slurm may have
   * forgotten it, and a dependency on an unknown id is accepted as met by some releases and
   * refused outright by others.
   */
  private async unmet(upstream: readonly UpstreamJob[]): Promise<JobId[]> {
    const ids = upstream.flatMap((u) => (u.jobId ? [u.jobId as JobId] : []));
    const done = await Promise.all(ids.map(async (id) => {
      const marker = this.markers.get(id);
      return marker !== undefined && (await readMarker(marker)) === 0;
    }));
    return ids.filter((_, i) => !done[i]);
  }

  /** Follows the job until its marker appears, Slurm says it ended without one, or the run is cancelled. */
  private async watch(s: Submission, job: StageJob, line: (l: string) => void, report: StageReporter, signal: AbortSignal): Promise<ExecResult> {
    const out = new FileTail(s.files.out);
    const events = s.files.events ? new FileTail(s.files.events) : undefined;
    let stageError: Extract<FromChild, { type: 'error' }> | undefined;
    const onEvent = (text: string) => {
      let m: FromChild;
      try { m = JSON.parse(text) as FromChild; } catch { return; } // a torn line from a crash: skip
      switch (m.type) {
        case 'log': line(m.line); break;
        case 'metric': report.metric(m.key, m.value, m.step, m.timestamp); break;
        case 'artifact': report.artifact(m.path, m.name); break;
        case 'progress': report.progress(m.done, m.total); break;
        case 'done': break;
        case 'error':
          if (m.stack) for (const l of m.stack.split('\n')) line(l); else line(m.message);
          stageError = m;
          break;
      }
    };
    const drain = async (final = false) => {
      for (const l of await out.lines(final)) line(l);
      if (events) for (const l of await events.lines(final)) if (l.trim()) onEvent(l);
    };
    const fail = (failure: Failure): ExecResult => ({ ok: false, failure, jobId: s.jobId });

    let lastAsked = -Infinity;
    let endedAt: number | undefined;
    let unreachableSaid = false;
    for (;;) {
      if (signal.aborted) {
        await this.cancelBatch.add(s.jobId);
        await drain(true);
        return fail({ kind: 'executor', message: `cancelled (scancel ${s.jobId})` });
      }
      await drain();
      const code = await readMarker(s.files.marker);
      if (code !== undefined) {
        await drain(true);
        if (code === 0) return { ok: true };
        if (stageError) return fail({ kind: stageError.kind, message: stageError.message });
        if (code === WRAPPER_EXIT.noProjectDir) return fail({ kind: 'executor', message: `job ${s.jobId} could not enter ${job.projectDir} on its node: the project must be on a filesystem the compute nodes share` });
        return fail(exitFailure(code));
      }
      const now = Date.now();
      if (now - lastAsked >= this.timing.queuePollMs) {
        lastAsked = now;
        const view = await this.states.get(s.jobId);
        if (view.kind === 'unreachable') {
          if (!unreachableSaid) line(`massflow: squeue does not answer (${view.message}); still waiting for job ${s.jobId}`);
          unreachableSaid = true;
        } else if (view.kind === 'live') {
          endedAt = undefined;
        } else {
          endedAt ??= now;
          if ((view.kind === 'ended' && KILLED.has(view.state)) || now - endedAt >= this.timing.markerGraceMs) {
            await drain(true);
            return fail({ kind: 'executor', message: await this.describeEnd(s, view) });
          }
        }
      }
      await sleep(this.timing.filePollMs, signal);
    }
  }

  /** Why a job ended without its marker, in the words a user can act on. */
  private async describeEnd(s: Submission, view: JobView): Promise<string> {
    if (view.kind !== 'ended') {
      return `Slurm job ${s.jobId} is no longer known to Slurm and left no exit marker at ${s.files.marker}: lost`;
    }
    const d = await this.states.details(s.jobId);
    const reason = d.reason ?? view.reason;
    const detail = [reason && reason !== 'None' ? reason : '', d.exitCode !== undefined ? `ExitCode=${d.exitCode}:${d.exitSignal ?? 0}` : ''].filter(Boolean).join(', ');
    const what = `Slurm job ${s.jobId} ended ${view.state}${detail ? ` (${detail})` : ''}`;
    if (reason === 'DependencyNeverSatisfied') return `${what}: an upstream job failed`;
    if (reason === 'JobLaunchFailure') return `${what}: it could not start; the run directory must exist on the compute nodes (a shared filesystem) and be writable`;
    switch (view.state) {
      case 'TIMEOUT': return `${what}: it ran past its time limit (resources.time)`;
      case 'OUT_OF_MEMORY': return `${what}: it ran out of memory (resources.memory)`;
      case 'CANCELLED': return `${what}: cancelled outside this run`;
      case 'COMPLETED': case 'FAILED': return `${what}, but its wrapper left no exit marker at ${s.files.marker}: is the project on a filesystem the compute nodes share?`;
      default: return what;
    }
  }

  async close(): Promise<void> {
    await this.cancelBatch.idle();
  }
}

/** A wrapper exit code as the local executor would report it: above 128 means killed by a signal. */
function exitFailure(code: number): Failure {
  if (code > 128 && code < 128 + 65) {
    const name = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
    if (name) return { kind: 'exit', code: null, signal: name };
  }
  return { kind: 'exit', code, signal: null };
}

async function readMarker(path: string): Promise<number | undefined> {
  try {
    const n = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

async function openLog(path: string): Promise<WriteStream> {
  await mkdir(dirname(path), { recursive: true });
  return createWriteStream(path, { flags: 'a' });
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Items added in the same tick go to one call (one scancel for a whole cancelled run). */
class Batch<T> {
  private items: T[] = [];
  private next: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  constructor(private readonly flush: (items: T[]) => Promise<void>) {}

  add(item: T): Promise<void> {
    this.items.push(item);
    if (!this.next) {
      const p: Promise<void> = new Promise<void>((r) => setImmediate(r)).then(async () => {
        const items = this.items;
        this.items = [];
        this.next = undefined;
        try { await this.flush(items); } finally { this.inFlight.delete(p); }
      });
      this.next = p;
      this.inFlight.add(p);
    }
    return this.next;
  }

  async idle(): Promise<void> { while (this.inFlight.size) await Promise.all(this.inFlight); }
}
