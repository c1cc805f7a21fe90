// What Slurm says about jobs: one `squeue -t all` for all the ids asked about in the same tick,
// `sacct` for jobs squeue has forgotten (where the cluster keeps accounting), `scontrol` for the
// exit code of a job that ended without its wrapper's marker.
import { onPath, runCommand, type JobId } from './commands.js';

export type JobView =
  | { kind: 'live'; state: string; reason: string }
  | { kind: 'ended'; state: string; reason: string }
  /** Neither squeue nor sacct knows the id: purged after MinJobAge, or lost by the controller. */
  | { kind: 'unknown' }
  /** The controller did not answer; nothing can be concluded. */
  | { kind: 'unreachable'; message: string };

/** States in which the job may still run (or is being cleaned up after running). */
const LIVE = new Set([
  'PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED',
  'RESIZING', 'SIGNALING', 'STAGE_OUT', 'STOPPED', 'RESV_DEL_HOLD', 'POWER_UP_NODE', 'UPDATE_DB',
]);

export function viewOf(state: string, reason: string): JobView {
  // sacct writes e.g. `CANCELLED by 0`.
  const s = state.trim().split(/\s+/)[0]!.toUpperCase();
  return LIVE.has(s) ? { kind: 'live', state: s, reason } : { kind: 'ended', state: s, reason };
}

/** `squeue -h -o '%i|%T|%r'` lines -> state by job id. */
export function parseSqueue(stdout: string): Map<string, JobView> {
  const out = new Map<string, JobView>();
  for (const line of stdout.split('\n')) {
    const [id, state, reason] = line.trim().split('|');
    if (id && state) out.set(id, viewOf(state, reason ?? ''));
  }
  return out;
}

/** `sacct -n -X -P -o JobID,State,ExitCode` lines -> state by job id (the exit code as its reason). */
export function parseSacct(stdout: string): Map<string, JobView> {
  const out = new Map<string, JobView>();
  for (const line of stdout.split('\n')) {
    const [id, state, exit] = line.trim().split('|');
    if (id && state) out.set(id, viewOf(state, exit ? `ExitCode=${exit}` : ''));
  }
  return out;
}

export interface ScontrolJob { state?: string; reason?: string; exitCode?: number; exitSignal?: number }

/** One line of `scontrol show job -o ID`: `JobId=.. JobState=FAILED Reason=NonZeroExitCode .. ExitCode=3:0 ..`. */
export function parseScontrolJob(stdout: string): ScontrolJob {
  const field = (k: string) => new RegExp(`(?:^|\\s)${k}=(\\S*)`).exec(stdout)?.[1];
  const exit = /(?:^|\s)ExitCode=(\d+):(\d+)/.exec(stdout);
  return {
    ...(field('JobState') ? { state: field('JobState')! } : {}),
    ...(field('Reason') ? { reason: field('Reason')! } : {}),
    ...(exit ? { exitCode: Number(exit[1]), exitSignal: Number(exit[2]) } : {}),
  };
}

export class JobStates {
  private asked = new Map<JobId, ((v: JobView) => void)[]>();
  private flushing = false;
  /** Learnt on first use: clusters without slurmdbd answer "accounting storage is disabled". */
  private sacct: boolean | undefined = onPath('sacct') ? undefined : false;

  /** The job's state; calls made in the same tick share one squeue. */
  get(id: JobId): Promise<JobView> {
    return new Promise((resolve) => {
      const waiting = this.asked.get(id);
      if (waiting) waiting.push(resolve); else this.asked.set(id, [resolve]);
      if (!this.flushing) { this.flushing = true; setImmediate(() => void this.flush()); }
    });
  }

  private async flush() {
    const asked = this.asked;
    this.asked = new Map();
    this.flushing = false;
    const views = await this.query([...asked.keys()]);
    for (const [id, resolvers] of asked) for (const r of resolvers) r(views.get(id) ?? { kind: 'unknown' });
  }

  async query(ids: readonly JobId[]): Promise<Map<JobId, JobView>> {
    const out = new Map<JobId, JobView>();
    if (!ids.length) return out;
    const r = await runCommand('squeue', ['-h', '-t', 'all', '-j', ids.join(','), '-o', '%i|%T|%r']);
    // All ids unknown: squeue exits 1 with "Invalid job id specified". Any other failure means
    // the controller did not answer, and a job must not be declared lost for that.
    if (r.code !== 0 && !/invalid job id/i.test(r.stderr)) {
      for (const id of ids) out.set(id, { kind: 'unreachable', message: r.stderr.trim() || `squeue exited ${r.code}` });
      return out;
    }
    const seen = parseSqueue(r.stdout);
    const missing: JobId[] = [];
    for (const id of ids) {
      const v = seen.get(id);
      if (v) out.set(id, v); else missing.push(id);
    }
    if (missing.length && this.sacct !== false) {
      const a = await runCommand('sacct', ['-n', '-X', '-P', '-j', missing.join(','), '-o', 'JobID,State,ExitCode']);
      if (a.code !== 0) this.sacct = false;
      else {
        this.sacct = true;
        const known = parseSacct(a.stdout);
        for (const id of missing) { const v = known.get(id); if (v) out.set(id, v); }
      }
    }
    return out;
  }

  /** Exit code and reason of one job, while the controller still remembers it. */
  async details(id: JobId): Promise<ScontrolJob> {
    const r = await runCommand('scontrol', ['show', 'job', '-o', id]);
    return r.code === 0 ? parseScontrolJob(r.stdout) : {};
  }
}
