// Failure injection against a real MLflow server. In every case the server ends with each logged
// metric point exactly once: no loss, no duplicate. The server uses MLflow's file store, which
// appends every point it is sent, so a duplicate delivery would show in the metric history (the
// sqlite store would quietly merge identical points).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openTracker, syncRun, type TrackingConfig } from '../../src/track/index.js';
import { readOutbox } from '../../src/track/outbox.js';
import { REPO, startTestServer, type TestServer } from './helpers/server.js';
import { startFlakyProxy } from './helpers/flaky-proxy.js';
import { startLateProxy } from './helpers/late-proxy.js';
import { range, runsOf, stepsOf, waitFor } from './helpers/inspect.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ store: 'file' });
});
// A test that killed the server and failed before restarting it must not fail the next ones too.
afterEach(async () => {
  // health() retries a refused connection with backoff; a dead server must answer within 3 s.
  if (!(await srv.client.health({ signal: AbortSignal.timeout(3000) }))) await srv.restart();
});
afterAll(async () => {
  await srv?.stop();
});

const tick = (ms = 1): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function open(projectDir: string, runId: string, config: TrackingConfig, experimentName: string, tuning = {}) {
  const runDir = join(projectDir, 'runs', runId);
  const r = await openTracker({ projectDir, runId, runDir, config, experimentName, tuning: { flushIntervalMs: 10, ...tuning } });
  if (!r.ok) throw new Error(r.error.message);
  return { tracker: r.value, runDir };
}

describe('fault tolerance', () => {
  it('server killed mid-run: the run completes, sync after the restart delivers every point exactly once', async () => {
    const projectDir = mkdtempSync(join(tmpdir(), 'mf-fault-'));
    const { tracker: t, runDir } = await open(projectDir, 'run-kill', srv.config(), 'kill-test', { windowOps: 300 });
    expect(t.startRun('root', { name: 'kill' }).ok).toBe(true);
    expect(t.startRun('stage:fit', { parentKey: 'root', name: 'fit' }).ok).toBe(true);
    const N1 = 1500;
    const N2 = 1500;
    for (let s = 0; s < N1; s++) {
      t.logMetric('stage:fit', 'loss', 1 / (s + 1), s);
      t.logMetric('stage:fit', 'acc', s / N1, s);
      if (s % 50 === 0) await tick(2);
    }
    // Wait until delivery is under way, then kill the server in the middle of it.
    const fitId = await waitFor('the stage run', async () => (await runsOf(srv.client, 'kill-test', 'run-kill')).get('stage:fit')?.run.info.run_id);
    // Windows go one after another: points from a third window mean the first was acknowledged.
    await waitFor('two windows delivered', async () => ((await srv.client.getMetricHistory(fitId, 'loss')).length > 300 ? true : undefined));
    srv.kill();
    for (let s = N1; s < N1 + N2; s++) {
      t.logMetric('stage:fit', 'loss', 1 / (s + 1), s);
      t.logMetric('stage:fit', 'acc', s / N1, s);
    }
    // A run started while the server is down.
    expect(t.startRun('fold:0', { parentKey: 'stage:fit', name: 'fold 0' }).ok).toBe(true);
    for (let s = 0; s < 100; s++) t.logMetric('fold:0', 'val_mae', 0.3, s);
    t.endRun('fold:0', 'FINISHED');
    t.endRun('stage:fit', 'FINISHED');
    t.endRun('root', 'FINISHED');
    const summary = await t.close({ flushTimeoutMs: 1500 });
    expect(summary.pending).toBeGreaterThan(0);
    expect(summary.delivered).toBeGreaterThan(0);
    expect(summary.lastError).toBeDefined();

    await srv.restart();
    const synced = await syncRun(runDir, srv.config());
    expect(synced.status).toBe('synced');
    expect(synced.pending).toBe(0);

    const after = await runsOf(srv.client, 'kill-test', 'run-kill');
    expect([...after.keys()].sort()).toEqual(['fold:0', 'root', 'stage:fit']);
    const fit = after.get('stage:fit')!;
    expect(fit.run.info.run_id).toBe(fitId);
    expect(await stepsOf(srv.client, fitId, 'loss')).toEqual(range(N1 + N2));
    expect(await stepsOf(srv.client, fitId, 'acc')).toEqual(range(N1 + N2));
    const fold = after.get('fold:0')!;
    expect(fold.tags['mlflow.parentRunId']).toBe(fitId);
    expect(await stepsOf(srv.client, fold.run.info.run_id, 'val_mae')).toEqual(range(100));
    expect(fold.run.info.status).toBe('FINISHED');

    const again = await syncRun(runDir, srv.config());
    expect([again.status, again.requests]).toEqual(['up-to-date', 0]);
  });

  it('a proxy dropping ~30% of requests (before and after the server answers): every point exactly once', async () => {
    const proxy = await startFlakyProxy(srv.port, { dropBefore: 0.15, dropAfter: 0.15, seed: 7 });
    try {
      const projectDir = mkdtempSync(join(tmpdir(), 'mf-fault-'));
      const config = srv.config(proxy.url);
      const { tracker: t, runDir } = await open(projectDir, 'run-flaky', config, 'flaky-test', { windowOps: 1500, concurrency: 4 });
      const keys = ['root', 'stage:a', 'stage:b'];
      const N = 1200;
      t.startRun('root', { name: 'flaky' });
      t.startRun('stage:a', { parentKey: 'root', name: 'a' });
      t.startRun('stage:b', { parentKey: 'root', name: 'b' });
      for (const k of keys) t.logParams(k, { model: { width: 32, depth: keys.indexOf(k) } });
      for (let s = 0; s < N; s++) {
        for (const k of keys) {
          t.logMetric(k, 'loss', Math.cos(s), s);
          t.logMetric(k, 'grad/norm', s % 7, s);
        }
        if (s % 100 === 0) await tick(2);
      }
      for (const k of keys.slice().reverse()) t.endRun(k, 'FINISHED');
      const summary = await t.close({ flushTimeoutMs: 60_000 });
      let pending = summary.pending;
      for (let i = 0; i < 10 && pending > 0; i++) pending = (await syncRun(runDir, config)).pending;
      expect(pending).toBe(0);

      // The proxy really did lose writes, including ones the server had applied...
      expect(proxy.stats.droppedBefore).toBeGreaterThan(5);
      expect(proxy.stats.droppedAfter).toBeGreaterThan(5);
      expect(proxy.stats.droppedAfterWrites).toBeGreaterThan(0);
      // ...and the server accepted each point exactly once over all those attempts.
      expect(proxy.stats.appliedPoints).toBe(keys.length * 2 * N);

      const runs = await runsOf(srv.client, 'flaky-test', 'run-flaky');
      expect([...runs.keys()].sort()).toEqual(['root', 'stage:a', 'stage:b']);
      for (const k of keys) {
        const r = runs.get(k)!;
        expect(r.params).toEqual({ 'model.width': '32', 'model.depth': String(keys.indexOf(k)) });
        expect(r.run.info.status).toBe('FINISHED');
        expect(await stepsOf(srv.client, r.run.info.run_id, 'loss')).toEqual(range(N));
        expect(await stepsOf(srv.client, r.run.info.run_id, 'grad/norm')).toEqual(range(N));
      }
      expect(runs.get('stage:a')!.tags['mlflow.parentRunId']).toBe(runs.get('root')!.run.info.run_id);
    } finally {
      await proxy.close();
    }
  });

  it('a metric write the server applies after the client timed out is not sent again', async () => {
    // The client gives up after 1 s; the server gets the write 1.6 s after it was sent. The retry
    // must wait for the history to settle before reconciling, or it resends the late points.
    const proxy = await startLateProxy(srv.port, { delayMs: 1600 });
    try {
      const projectDir = mkdtempSync(join(tmpdir(), 'mf-fault-'));
      const config = srv.config(proxy.url, { MLFLOW_HTTP_REQUEST_TIMEOUT: '1' });
      const { tracker: t } = await open(projectDir, 'run-late', config, 'late-test', { windowOps: 200 });
      const N = 400;
      t.startRun('root', { name: 'late' });
      for (let s = 0; s < N; s++) {
        t.logMetric('root', 'loss', 1 / (s + 1), s);
        if (s % 50 === 0) await tick(2);
      }
      t.endRun('root', 'FINISHED');
      const summary = await t.close({ flushTimeoutMs: 60_000 });
      expect(summary.pending).toBe(0);
      expect(proxy.stats.late).toBe(1);
      // However delivery went, the late write lands in the end: only then is the history final.
      await waitFor('the late write', async () => proxy.stats.lateLandedAt, 10_000);
      expect(proxy.stats.appliedPoints).toBe(N);
      const runs = await runsOf(srv.client, 'late-test', 'run-late');
      expect(await stepsOf(srv.client, runs.get('root')!.run.info.run_id, 'loss')).toEqual(range(N));
    } finally {
      await proxy.close();
    }
  });

  it('the runner process killed mid-delivery: sync reconciles, every point on disk lands exactly once', async () => {
    const projectDir = mkdtempSync(join(tmpdir(), 'mf-fault-'));
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'test/track/helpers/log-child.ts'), projectDir, 'run-crash', srv.url], {
      cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((r) => child.once('exit', r));
    let aId: string;
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
      });
      // Let it deliver for a moment so the kill lands in the middle of windows in flight.
      aId = await waitFor('the stage run', async () => (await runsOf(srv.client, 'crash', 'run-crash')).get('stage:a')?.run.info.run_id);
      await waitFor('500 points', async () => ((await srv.client.getMetricHistory(aId, 'loss')).length >= 500 ? true : undefined));
    } finally {
      child.kill('SIGKILL');
      await exited;
    }

    const runDir = join(projectDir, 'runs', 'run-crash');
    const t0 = Date.now();
    const synced = await syncRun(runDir, srv.config());
    console.log(`crash test: sync sent ${synced.sentOps} ops, skipped ${synced.skippedPoints} points already on the server, in ${Date.now() - t0} ms`);
    expect(synced.status).toBe('synced');
    // What the outbox holds is what must be on the server, once.
    const onDisk = readOutbox(join(runDir, 'tracking')).entries.map((e) => e.op).filter((o) => o.op === 'metric');
    const stepsOnDisk = (key: string, name: string): number[] =>
      onDisk.filter((o) => o.key === key && o.op === 'metric' && o.name === name).map((o) => (o as { step: number }).step).sort((x, y) => x - y);
    expect(stepsOnDisk('stage:a', 'loss').length).toBeGreaterThan(1000);
    expect(await stepsOf(srv.client, aId, 'loss')).toEqual(stepsOnDisk('stage:a', 'loss'));
    const rootId = (await runsOf(srv.client, 'crash', 'run-crash')).get('root')!.run.info.run_id;
    expect(await stepsOf(srv.client, rootId, 'lr')).toEqual(stepsOnDisk('root', 'lr'));
    expect(stepsOnDisk('root', 'lr')).toEqual(range(stepsOnDisk('root', 'lr').length));
  });
});
