// The local executor: a TS stage in its own Node child process (forked with the tsx loader, talking
// over IPC), a `cmd:` stage through execa with no shell. Output goes to the stage's log file.
import { fork } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Executor, ExecResult, StageJob, StageReporter } from './executor.js';
import { stageEnv, stageLogLine } from './executor.js';
import { inheritedEnv } from './stage-env.js';
import type { FromChild, ToChild } from './stage-protocol.js';
import { stageLoaderArgs } from './stage-loaders.js';

const CHILD_ENTRY = fileURLToPath(new URL('./stage-child.js', import.meta.url));
/** How long a cancelled stage may take to stop before it is killed. */
const KILL_GRACE_MS = 3000;

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

export class LocalExecutor implements Executor {
  readonly name = 'local';

  async run(job: StageJob, report: StageReporter, signal: AbortSignal): Promise<ExecResult> {
    const log = await openLog(job.logFile);
    const line = stageLogLine(log, report);
    try {
      return job.impl.kind === 'ts' ? await this.runTs(job, report, line, signal) : await this.runCmd(job, line, signal);
    } finally {
      await closeLog(log);
    }
  }

  private runTs(job: StageJob, report: StageReporter, line: (l: string) => void, signal: AbortSignal): Promise<ExecResult> {
    return new Promise((resolve) => {
      const child = fork(CHILD_ENTRY, [], {
        cwd: job.projectDir,
        env: { ...inheritedEnv(), ...stageEnv(job) },
        execArgv: [...stageLoaderArgs(), '--enable-source-maps'],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'advanced',
      });
      const out = new LineSplitter(line), err = new LineSplitter(line);
      child.stdout!.on('data', (c: Buffer) => out.push(c));
      child.stderr!.on('data', (c: Buffer) => err.push(c));
      let result: ExecResult | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        if (child.connected) child.send({ type: 'abort' } satisfies ToChild);
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      child.on('message', (m: FromChild) => {
        switch (m.type) {
          case 'log': line(m.line); break;
          case 'metric': report.metric(m.key, m.value, m.step, m.timestamp); break;
          case 'artifact': report.artifact(m.path, m.name); break;
          case 'progress': report.progress(m.done, m.total); break;
          case 'done': result = { ok: true }; break;
          case 'error':
            if (m.stack) for (const l of m.stack.split('\n')) line(l); else line(m.message);
            result = { ok: false, failure: { kind: m.kind, message: m.message } };
            break;
        }
      });
      child.on('error', (e) => { result ??= { ok: false, failure: { kind: 'spawn', message: e.message } }; });
      child.on('exit', (code, sig) => {
        out.flush(); err.flush();
        if (killTimer) clearTimeout(killTimer);
        signal.removeEventListener('abort', onAbort);
        resolve(result ?? { ok: false, failure: { kind: 'exit', code, signal: sig } });
      });
      child.send({ type: 'start', job } satisfies ToChild);
    });
  }

  private async runCmd(job: StageJob, line: (l: string) => void, signal: AbortSignal): Promise<ExecResult> {
    if (job.impl.kind !== 'cmd') throw new Error('unreachable');
    const [file, ...args] = job.impl.argv;
    // Loaded on first use: execa's module graph is a noticeable part of a no-op run's startup.
    const { execa } = await import('execa');
    // extendEnv off: execa would otherwise add the runner's whole environment back, secrets included.
    const options = { cwd: job.projectDir, env: { ...inheritedEnv(), ...stageEnv(job) }, extendEnv: false, reject: false, cancelSignal: signal, forceKillAfterDelay: KILL_GRACE_MS, stdin: 'ignore', buffer: false } as const;
    const sub = job.impl.shell ? execa(job.impl.argv.join(' '), { ...options, shell: true }) : execa(file!, args, options);
    const out = new LineSplitter(line), err = new LineSplitter(line);
    sub.stdout?.on('data', (c: Buffer) => out.push(c));
    sub.stderr?.on('data', (c: Buffer) => err.push(c));
    const r = await sub;
    out.flush(); err.flush();
    if ((r as { code?: string }).code === 'ENOENT' || (r.failed && r.exitCode === undefined && !r.signal && !r.isCanceled)) {
      return { ok: false, failure: { kind: 'spawn', message: r.shortMessage ?? `cannot run ${file}` } };
    }
    if (r.exitCode === 0) return { ok: true };
    return { ok: false, failure: { kind: 'exit', code: r.exitCode ?? null, signal: r.signal ?? null } };
  }
}
