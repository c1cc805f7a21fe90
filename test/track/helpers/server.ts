// Starts a real MLflow server for one test file: a temp project, a free port, sqlite and artifacts
// under the temp dir, through the same mlflowUp the CLI uses. Fails loudly when the venv is missing.
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, closeSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mlflowDown, mlflowServerRecord, mlflowUp } from '../../../src/track/index.js';
import { VENV_DIR } from '../../../src/track/server/venv.js';
import { resolveTrackingConfig, type TrackingConfig } from '../../../src/track/config.js';
import { createClient } from '../../../src/track/client-factory.js';
import type { MlflowClient } from '../../../src/track/mlflow/client.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const TEST_VENV = process.env.MASSFLOW_MLFLOW_VENV ?? join(REPO, VENV_DIR);

/** Fast retries for tests: the official schedule would wait minutes on a dead server. */
export const FAST_RETRY_ENV = {
  MLFLOW_HTTP_REQUEST_MAX_RETRIES: '7',
  MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.02',
  MLFLOW_HTTP_REQUEST_BACKOFF_JITTER: '0',
  MLFLOW_HTTP_REQUEST_TIMEOUT: '10',
};

export interface TestServer {
  readonly url: string;
  readonly port: number;
  readonly projectDir: string;
  /** A client straight to the server, for assertions. */
  readonly client: MlflowClient;
  config(uri?: string, env?: Record<string, string>): TrackingConfig;
  /** SIGKILL the whole server process group, as a crash would. */
  kill(): void;
  /** Start it again on the same port and store. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => res(port));
    });
  });
}

/**
 * `sqlite` is what `massflow mlflow up` runs. `file` is MLflow's file store, used by the fault
 * tests: the sqlite store silently drops a point identical to one it holds (its primary key covers
 * key, timestamp, step and value), which would hide a duplicate; the file store keeps every point.
 */
export async function startTestServer(opts: { store?: 'sqlite' | 'file' } = {}): Promise<TestServer> {
  return serverIn(mkdtempSync(join(tmpdir(), 'massflow-mlflow-')), await freePort(), opts);
}

/**
 * The test run's one sqlite server (test/track/helpers/shared-server.global.ts stops it), for files
 * that only log and read back experiments of their own names: each file's experiment names differ
 * from every other's, and a file looks its runs up by massflow run id, so files never see each
 * other's runs. The first caller starts it; the others, in other workers, wait for its URL. Its
 * stop() closes this file's client only; kill() and restart() would break the other files.
 */
export async function sharedTestServer(): Promise<TestServer> {
  // Imported here, not on top: scripts/mlflow-screenshots.ts uses this file outside vitest.
  const dir = (await import('vitest')).inject('mlflowSharedDir');
  const [urlFile, errorFile] = [join(dir, 'url'), join(dir, 'error')];
  let mine = false;
  try {
    closeSync(openSync(join(dir, 'starting'), 'wx'));
    mine = true;
  } catch { /* another file is starting it */ }
  if (mine) {
    const port = await freePort();
    try {
      const srv = await serverIn(dir, port, {}, { keep: true });
      writeFileSync(urlFile, srv.url);
      return srv;
    } catch (e) {
      writeFileSync(errorFile, String((e as Error).message));
      throw e;
    }
  }
  for (const deadline = Date.now() + 180_000; !existsSync(urlFile); await new Promise((r) => setTimeout(r, 200))) {
    if (existsSync(errorFile)) throw new Error(readFileSync(errorFile, 'utf8'));
    if (Date.now() > deadline) throw new Error(`the shared MLflow test server in ${dir} did not start within 180 s`);
  }
  return serverIn(dir, Number(new URL(readFileSync(urlFile, 'utf8')).port), {}, { keep: true });
}

async function serverIn(projectDir: string, port: number, opts: { store?: 'sqlite' | 'file' }, shared: { keep?: boolean } = {}): Promise<TestServer> {
  const store = opts.store === 'file'
    ? { backendStoreUri: `file://${join(projectDir, 'mlruns')}`, env: { MLFLOW_ALLOW_FILE_STORE: 'true' } }
    : {};
  const up = async (): Promise<string> => {
    const r = await mlflowUp(projectDir, { port, venvDir: TEST_VENV, createVenv: false, readyTimeoutMs: 90_000, ...store });
    if (!r.ok) {
      throw new Error(`cannot start the MLflow test server: ${r.error.message}\n` +
        `The tracking tests need the pinned mlflow in ${TEST_VENV}: run \`npm run setup\` ` +
        `(or set MASSFLOW_MLFLOW_VENV to an existing venv).${r.error.logTail ? `\n${r.error.logTail}` : ''}`);
    }
    return r.value.url;
  };
  const url = await up();
  const config = (uri = url, env: Record<string, string> = {}): TrackingConfig => {
    const r = resolveTrackingConfig({ env: { ...FAST_RETRY_ENV, ...env }, flags: { uri } });
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    return r.value;
  };
  const direct = config();
  if (direct.mode !== 'server') throw new Error('unreachable');
  const client = createClient(direct.server);
  return {
    url, port, projectDir, client, config,
    kill(): void {
      if (shared.keep) throw new Error('the shared MLflow test server cannot be killed by one file: use startTestServer()');
      const rec = mlflowServerRecord(projectDir);
      if (rec) process.kill(-rec.pid, 'SIGKILL');
    },
    async restart(): Promise<void> {
      if (shared.keep) throw new Error('the shared MLflow test server cannot be restarted by one file: use startTestServer()');
      await up();
    },
    async stop(): Promise<void> {
      await client.close();
      if (shared.keep) return;
      await mlflowDown(projectDir);
      rmSync(projectDir, { recursive: true, force: true });
    },
  };
}
