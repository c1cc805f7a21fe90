// The local executor: a TS stage in its own Node child process (forked with the tsx loader, talking
// over IPC), a `cmd:` stage under a small guard process, with no shell. Each stage is the leader of
// its own process group: stopping it signals the group (SIGTERM, then SIGKILL after the stage's
// stop grace), and what is left of the group once the stage ended is killed. Both children watch
// for the runner's death and take their group down with them. Output goes to the stage's log file.
import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Executor, ExecResult, StageJob, StageReporter } from './executor.js';
import { stageEnv, stageLogLine } from './executor.js';
import { inheritedEnv } from './stage-env.js';
import type { FromChild, ToChild } from './stage-protocol.js';
import { stageLoaderArgs } from './stage-loaders.js';
import type { StageUsage } from '../core/run-events.js';

const CHILD_ENTRY = fileURLToPath(new URL('./stage-child.js', import.meta.url));
const GUARD_ENTRY = fileURLToPath(new URL('./stage-guard.js', import.meta.url));
/** After a stage's process exited, how long its pipes may stay open before the stage counts as ended. */
const CLOSE_WAIT_MS = 2000;

class LineSplitter {
  private buf = '';
  constructor(private readonly onLine: (l: string) => void) {}
  push(chunk: Buffer | string) {
    this.buf += chunk.toString();
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) { this.onLine(this.buf.slice(0, i)); this.buf = this.buf.slice(i + 1); }
  }
  flush() { if (this.buf) this.onLine(this.buf); this.buf = ''; }
}

async function openLog(path: string): Promise<WriteStream> {
  await mkdir(dirname(path), { recursive: true });
  return createWriteStream(path, { flags: 'a' });
}

const closeLog = (s: WriteStream) => new Promise<void>((r) => s.end(r));

function signalGroup(pgid: number | undefined, sig: NodeJS.Signals): void {
  if (pgid === undefined) return;
  try { process.kill(-pgid, sig); } catch { /* the group is gone */ }
}

/**
 * Follows a stage's process group from start to end: its output into `line`, a cancellation into
 * SIGTERM then SIGKILL after the grace, and a last SIGKILL for whatever the stage left running.
 */
function superviseGroup(child: ChildProcess, job: StageJob, report: StageReporter, line: (l: string) => void, signal: AbortSignal, onStop: () => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }> {
  const pgid = child.pid;
  if (pgid !== undefined) report.processGroup?.(pgid);
  const out = new LineSplitter(line), err = new LineSplitter(line);
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  child.stderr!.on('data', (c: Buffer) => err.push(c));
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    onStop();
    signalGroup(pgid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), job.stopGraceMs);
  };
  if (signal.aborted) onAbort(); else signal.addEventListener('abort', onAbort, { once: true });
  return new Promise((resolve) => {
    let error: Error | undefined;
    child.on('error', (e) => { error = e; if (child.pid === undefined) resolve({ code: null, signal: null, error: e }); });
    child.on('exit', (code, sig) => {
      if (killTimer) clearTimeout(killTimer);
      signal.removeEventListener('abort', onAbort);
      signalGroup(pgid, 'SIGKILL');
      // The last output and messages arrive with 'close' (pipes and channel drained). A process
      // that left the group may hold a pipe open for ever: do not wait for it past a moment.
      const settle = () => { clearTimeout(late); out.flush(); err.flush(); resolve({ code, signal: sig, ...(error ? { error } : {}) }); };
      const late = setTimeout(settle, CLOSE_WAIT_MS);
      child.once('close', settle);
    });
  });
}

export class LocalExecutor implements Executor {
  readonly name = 'local';

  async run(job: StageJob, report: StageReporter, signal: AbortSignal): Promise<ExecResult> {
    const log = await openLog(job.logFile);
    const line = stageLogLine(log, report);
    try {
      return job.impl.kind === 'ts' ? await this.runTs(job, report, line, signal) : await this.runCmd(job, report, line, signal);
    } finally {
      await closeLog(log);
    }
  }

  private async runTs(job: StageJob, report: StageReporter, line: (l: string) => void, signal: AbortSignal): Promise<ExecResult> {
    const child = fork(CHILD_ENTRY, [], {
      cwd: job.projectDir,
      env: { ...inheritedEnv(), ...stageEnv(job), MASSFLOW_RUNNER_PID: String(process.pid) },
      execArgv: [...stageLoaderArgs(), '--enable-source-maps'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
      detached: true,
    });
    let result: ExecResult | undefined;
    let usage: StageUsage | undefined;
    child.on('message', (m: FromChild) => {
      switch (m.type) {
        case 'log': line(m.line); break;
        case 'metric': report.metric(m.key, m.value, m.step, m.timestamp); break;
        case 'artifact': report.artifact(m.path, m.name); break;
        case 'progress': report.progress(m.done, m.total); break;
        case 'done': result = { ok: true }; break;
        case 'usage': usage = { cpuMs: m.cpuMs, peakRssBytes: m.peakRssBytes }; break;
        case 'error':
          if (m.stack) for (const l of m.stack.split('\n')) line(l); else line(m.message);
          result = { ok: false, failure: { kind: m.kind, message: m.message } };
          break;
      }
    });
    const ended = superviseGroup(child, job, report, line, signal, () => { if (child.connected) child.send({ type: 'abort' } satisfies ToChild); });
    if (child.pid !== undefined) child.send({ type: 'start', job } satisfies ToChild);
    const end = await ended;
    if (end.error && child.pid === undefined) return { ok: false, failure: { kind: 'spawn', message: end.error.message } };
    return { ...(result ?? { ok: false, failure: { kind: 'exit', code: end.code, signal: end.signal } }), usage };
  }

  private async runCmd(job: StageJob, report: StageReporter, line: (l: string) => void, signal: AbortSignal): Promise<ExecResult> {
    if (job.impl.kind !== 'cmd') throw new Error('unreachable');
    const argv = job.impl.shell ? ['/bin/sh', '-c', job.impl.argv.join(' ')] : job.impl.argv;
    const child = fork(GUARD_ENTRY, argv, {
      cwd: job.projectDir,
      env: { ...inheritedEnv(), ...stageEnv(job), MASSFLOW_RUNNER_PID: String(process.pid) },
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
    });
    let spawnError: string | undefined;
    let usage: StageUsage | undefined;
    child.on('message', (m: { type: 'spawn-error'; message: string } | Extract<FromChild, { type: 'usage' }>) => {
      if (m.type === 'spawn-error') spawnError = m.message;
      else usage = { cpuMs: m.cpuMs, peakRssBytes: m.peakRssBytes };
    });
    const end = await superviseGroup(child, job, report, line, signal, () => {});
    if (end.error && child.pid === undefined) return { ok: false, failure: { kind: 'spawn', message: end.error.message } };
    if (spawnError !== undefined) return { ok: false, failure: { kind: 'spawn', message: spawnError } };
    if (end.code === 0) return { ok: true, usage };
    return { ok: false, failure: { kind: 'exit', code: end.code, signal: end.signal }, usage };
  }
}
