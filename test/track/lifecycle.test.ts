// `massflow mlflow up|down` on a temp project: the server comes up on 127.0.0.1 with its store and
// artifacts under <project>/.mlflow, a second `up` reuses it, a taken port is a clear error, and
// `down` stops the whole process group.
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureVenv, mlflowDown, mlflowUp, MLFLOW_VERSION } from '../../src/track/index.js';
import { findVenv } from '../../src/track/server/venv.js';
import { TEST_VENV, freePort } from './helpers/server.js';

const groupAlive = (pgid: number): boolean => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('mlflow server lifecycle', () => {
  it("finds the project's venv with the pinned mlflow first, else the per-user one, else says which to create", async () => {
    const project = mkdtempSync(join(tmpdir(), 'mf-venv-'));
    const cache = mkdtempSync(join(tmpdir(), 'mf-cache-'));
    const env = { MASSFLOW_CACHE_DIR: cache };
    // Neither: the per-user one is the one to create.
    expect(await findVenv(project, env)).toEqual({ dir: join(cache, `mlflow-${MLFLOW_VERSION}`), where: 'user', version: undefined });
    symlinkSync(TEST_VENV, join(cache, `mlflow-${MLFLOW_VERSION}`));
    expect(await findVenv(project, env)).toEqual({ dir: join(cache, `mlflow-${MLFLOW_VERSION}`), where: 'user', version: MLFLOW_VERSION });
    symlinkSync(TEST_VENV, join(project, '.venv-mlflow'));
    expect(await findVenv(project, env)).toEqual({ dir: join(project, '.venv-mlflow'), where: 'project', version: MLFLOW_VERSION });
  }, 60_000);

  it('reports a missing venv or Python as results with a way out, not exceptions', async () => {
    const project = mkdtempSync(join(tmpdir(), 'mf-up-'));
    const r = await mlflowUp(project, { venvDir: join(project, 'no-venv'), createVenv: false });
    expect(!r.ok && r.error.kind).toBe('venv-missing');
    expect(!r.ok && r.error.message).toMatch(/massflow setup --mlflow --mlflow-venv/);
    const py = await ensureVenv(join(project, 'v'), { python: join(project, 'no-such-python3') });
    expect(!py.ok && py.error.kind).toBe('python-missing');
    expect(!py.ok && py.error.message).toMatch(/MLFLOW_TRACKING_URI/);
  });

  it('starts, reuses, refuses a taken port, and stops by pid', async () => {
    const project = mkdtempSync(join(tmpdir(), 'mf-up-'));
    const port = await freePort();
    const up = await mlflowUp(project, { port, venvDir: TEST_VENV, createVenv: false, readyTimeoutMs: 90_000 });
    if (!up.ok) throw new Error(`${up.error.message}\n${up.error.logTail ?? ''}`);
    try {
      expect(up.value.url).toBe(`http://127.0.0.1:${port}`);
      expect(up.value.alreadyRunning).toBe(false);
      expect(existsSync(join(project, '.mlflow', 'mlflow.db'))).toBe(true);
      expect(JSON.parse(readFileSync(join(project, '.mlflow', 'server.json'), 'utf8'))).toMatchObject({ pid: up.value.pid, port });
      expect(await (await fetch(`${up.value.url}/health`)).text()).toBe('OK');
      expect(await (await fetch(`${up.value.url}/version`)).text()).toBe(MLFLOW_VERSION);

      const again = await mlflowUp(project, { port, venvDir: TEST_VENV, createVenv: false });
      expect(again.ok && [again.value.alreadyRunning, again.value.pid]).toEqual([true, up.value.pid]);

      const other = mkdtempSync(join(tmpdir(), 'mf-up-'));
      const clash = await mlflowUp(other, { port, venvDir: TEST_VENV, createVenv: false });
      expect(!clash.ok && clash.error.kind).toBe('port-in-use');
      expect(!clash.ok && clash.error.message).toContain(`port ${port}`);
    } finally {
      const down = await mlflowDown(project);
      expect(down.ok && down.value).toEqual({ stopped: true, pid: up.value.pid });
    }
    expect(groupAlive(up.value.pid)).toBe(false);
    expect(existsSync(join(project, '.mlflow', 'server.json'))).toBe(false);
    expect(await mlflowDown(project)).toEqual({ ok: true, value: { stopped: false } });
  // A first start creates the sqlite store (MLflow's migrations): past a minute on a loaded machine,
  // so the test allows the start's own 90 s readiness limit and the rest.
  }, 180_000);
});
