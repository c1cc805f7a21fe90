// `massflow mlflow up|down`: a project-local MLflow server on 127.0.0.1 with a sqlite store and an
// artifacts folder under <project>/.mlflow, started detached in its own process group, remembered
// by a pid file, stopped by that pid.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { err, ok, type Result } from '../../core/result.js';
import { isAlive, MLFLOW_DATA_DIR, PID_FILE, readPid, type PidRecord } from './record.js';
import { MLFLOW_VERSION, ensureVenv, findVenv, installedMlflowVersion, venvBin } from './venv.js';

const LOG_FILE = 'server.log';

export interface MlflowUpOptions {
  /** Default 5000, MLflow's usual port. */
  readonly port?: number;
  /** Default 127.0.0.1: the embedded server is for this machine only. */
  readonly host?: string;
  /** Default: the project's .venv-mlflow or the per-user one (./venv.ts findVenv). */
  readonly venvDir?: string;
  /** Create the venv when it is missing (default true). Tests turn this off and fail clearly instead. */
  readonly createVenv?: boolean;
  readonly python?: string;
  /** How long to wait for /health (default 60 s; a fresh sqlite store runs its migrations first). */
  readonly readyTimeoutMs?: number;
  /**
   * Another backend store than the default `sqlite:///<project>/.mlflow/mlflow.db` (e.g. a
   * postgresql:// URI, or a file:// store, which also needs MLFLOW_ALLOW_FILE_STORE=true in `env`).
   */
  readonly backendStoreUri?: string;
  /**
   * Server worker processes (default 1: sqlite serializes writes, and one worker never waits on
   * another's lock; more can raise throughput on an idle multi-core machine).
   */
  readonly workers?: number;
  /** Extra environment for the server process. */
  readonly env?: Readonly<Record<string, string>>;
  readonly onLog?: (line: string) => void;
}

export interface MlflowServerInfo {
  /** The UI and tracking URI, e.g. http://127.0.0.1:5000. */
  readonly url: string;
  readonly pid: number;
  readonly host: string;
  readonly port: number;
  readonly version: string;
  /** <project>/.mlflow: mlflow.db, artifacts/, server.log, server.json. */
  readonly dataDir: string;
  readonly logFile: string;
  /** True when `up` found this project's server already running and left it alone. */
  readonly alreadyRunning: boolean;
}

export type LifecycleErrorKind = 'python-missing' | 'venv-missing' | 'venv-failed' | 'port-in-use' | 'start-failed' | 'timeout' | 'stop-failed';

export interface LifecycleError {
  readonly kind: LifecycleErrorKind;
  readonly message: string;
  /** The last lines of the server log, when it died while starting. */
  readonly logTail?: string;
}

export async function mlflowUp(projectDir: string, opts: MlflowUpOptions = {}): Promise<Result<MlflowServerInfo, LifecycleError>> {
  const project = resolve(projectDir);
  const dataDir = join(project, MLFLOW_DATA_DIR);
  const logFile = join(dataDir, LOG_FILE);
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 5000;
  mkdirSync(join(dataDir, 'artifacts'), { recursive: true });

  const running = readPid(dataDir);
  if (running && isAlive(running.pid)) {
    if (await healthy(running.url, 2000)) {
      return ok({ url: running.url, pid: running.pid, host: running.host, port: running.port, version: running.version, dataDir, logFile, alreadyRunning: true });
    }
  } else if (running) {
    rmSync(join(dataDir, PID_FILE), { force: true }); // Left by a server that died.
  }

  const venvDir = opts.venvDir ?? (await findVenv(project)).dir;
  if (opts.createVenv === false) {
    const have = await installedMlflowVersion(venvDir);
    if (have === undefined) {
      return err({ kind: 'venv-missing', message: `no MLflow virtualenv at ${venvDir}: create it with \`massflow setup --mlflow --mlflow-venv ${venvDir}\` (or run \`massflow mlflow up\`, which creates it)` });
    }
  } else {
    const venv = await ensureVenv(venvDir, { ...(opts.python && { python: opts.python }), ...(opts.onLog && { onLog: opts.onLog }) });
    if (!venv.ok) return err(venv.error);
  }

  if (running && isAlive(running.pid)) {
    return err({ kind: 'start-failed', message: `an MLflow server for this project (pid ${running.pid}) is running but not answering ${running.url}/health; stop it with \`massflow mlflow down\`` });
  }
  const free = await portFree(host, port);
  if (!free) {
    return err({ kind: 'port-in-use', message: `port ${port} on ${host} is in use by another program; choose another with --port, or use that server by setting MLFLOW_TRACKING_URI=http://${host}:${port} if it is an MLflow server` });
  }

  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const args = [
    'server',
    '--backend-store-uri', opts.backendStoreUri ?? `sqlite:///${join(dataDir, 'mlflow.db')}`,
    // Proxied artifacts: runs get mlflow-artifacts:/ URIs and clients upload through the server.
    '--serve-artifacts',
    '--artifacts-destination', join(dataDir, 'artifacts'),
    '--host', host,
    '--port', String(port),
    '--workers', String(opts.workers ?? 1),
  ];
  const log = openSync(logFile, 'a');
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let child;
  try {
    child = spawn(venvBin(venvDir, 'mlflow'), args, {
      cwd: dataDir,
      detached: true,
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        // The job runner forks seven huey workers for features a tracking server does not use.
        MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
        ...opts.env,
      },
    });
  } finally {
    closeSync(log);
  }
  const pid = child.pid;
  if (pid === undefined) return err({ kind: 'start-failed', message: `could not start ${venvBin(venvDir, 'mlflow')}` });
  child.on('exit', (code, signal) => (exited = { code, signal }));
  child.unref();
  const record: PidRecord = { pid, host, port, url, version: MLFLOW_VERSION, startedAt: new Date().toISOString() };
  writeFileSync(join(dataDir, PID_FILE), JSON.stringify(record, null, 2));

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (exited) {
      rmSync(join(dataDir, PID_FILE), { force: true });
      return err({ kind: 'start-failed', message: `mlflow server exited while starting (${exited.code ?? exited.signal}); see ${logFile}`, logTail: tail(logFile) });
    }
    if (await healthy(url, 1000)) {
      return ok({ url, pid, host, port, version: MLFLOW_VERSION, dataDir, logFile, alreadyRunning: false });
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  stopGroup(pid, 'SIGKILL');
  rmSync(join(dataDir, PID_FILE), { force: true });
  return err({ kind: 'timeout', message: `mlflow server did not answer ${url}/health within ${Math.round((opts.readyTimeoutMs ?? 60_000) / 1000)} s; see ${logFile}`, logTail: tail(logFile) });
}

export async function mlflowDown(projectDir: string, opts: { timeoutMs?: number } = {}): Promise<Result<{ stopped: boolean; pid?: number }, LifecycleError>> {
  const dataDir = join(resolve(projectDir), MLFLOW_DATA_DIR);
  const rec = readPid(dataDir);
  if (!rec) return ok({ stopped: false });
  if (!isAlive(rec.pid) || !looksLikeMlflow(rec.pid)) {
    // Dead, or the pid now belongs to something else: never signal a stranger.
    rmSync(join(dataDir, PID_FILE), { force: true });
    return ok({ stopped: false, pid: rec.pid });
  }
  stopGroup(rec.pid, 'SIGTERM');
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  while (Date.now() < deadline && groupAlive(rec.pid)) await new Promise((r) => setTimeout(r, 100));
  if (groupAlive(rec.pid)) {
    stopGroup(rec.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
  }
  if (groupAlive(rec.pid)) return err({ kind: 'stop-failed', message: `mlflow server (pid ${rec.pid}) did not stop` });
  rmSync(join(dataDir, PID_FILE), { force: true });
  return ok({ stopped: true, pid: rec.pid });
}

/** The recorded server of a project, if its process is alive. */
async function healthy(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await request(`${url}/health`, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.body.text();
    return res.statusCode === 200 && body.trim() === 'OK';
  } catch {
    return false;
  }
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const srv = createServer();
    srv.once('error', () => resolveFree(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolveFree(true)));
  });
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The server was spawned detached, so its pid is its process group: uvicorn and workers go with it. */
function stopGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    try {
      process.kill(pgid, signal);
    } catch {
      // Already gone.
    }
  }
}

function looksLikeMlflow(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('mlflow');
  } catch {
    return true; // No /proc (macOS): the pid file and liveness are all we have.
  }
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
