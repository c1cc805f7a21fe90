// The REST client against a real MLflow server: every RPC the tracker relies on, the server's
// quirks (NaN and infinities, paging, sparse answers), limits and error mapping.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowError, chunkBatch, keyProblem, type WireMetric } from '../../src/track/mlflow/index.js';
import { createClient } from '../../src/track/client-factory.js';
import { MLFLOW_VERSION } from '../../src/track/server/venv.js';
import { sharedTestServer, type TestServer } from './helpers/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await sharedTestServer();
});
afterAll(async () => {
  await srv?.stop();
});

describe('MlflowClient against a real server', () => {
  it('reaches the pinned server version', async () => {
    expect(await srv.client.health()).toBe(true);
    expect(await srv.client.version()).toBe(MLFLOW_VERSION);
  });

  it('gets or creates experiments by name, idempotently', async () => {
    const a = await srv.client.getOrCreateExperiment('client-exp');
    const b = await srv.client.getOrCreateExperiment('client-exp');
    expect(b.experiment_id).toBe(a.experiment_id);
    expect(await srv.client.getExperimentByName('no-such-experiment')).toBeUndefined();
    const dup = await srv.client.createExperiment('client-exp').catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(MlflowError);
    expect((dup as MlflowError).code).toBe('RESOURCE_ALREADY_EXISTS');
    expect((dup as MlflowError).status).toBe(400);
    expect((dup as MlflowError).applied).toBe('no');
  });

  it('creates nested runs, finds children by parent tag, updates status', async () => {
    const exp = await srv.client.getOrCreateExperiment('client-runs');
    const parent = await srv.client.createRun({ experimentId: exp.experiment_id, runName: 'parent', startTime: 1_700_000_000_000, tags: [{ key: 'k', value: 'v' }] });
    expect(parent.info.run_name).toBe('parent');
    expect(parent.info.start_time).toBe(1_700_000_000_000);
    expect(parent.info.artifact_uri).toMatch(/^mlflow-artifacts:\//);
    const child = await srv.client.createRun({ experimentId: exp.experiment_id, runName: 'child', tags: [{ key: 'mlflow.parentRunId', value: parent.info.run_id }] });
    const found = await srv.client.searchAllRuns({ experimentIds: [exp.experiment_id], filter: `tags.mlflow.parentRunId = '${parent.info.run_id}'` });
    expect(found.map((r) => r.info.run_id)).toEqual([child.info.run_id]);
    const none = await srv.client.searchRuns({ experimentIds: [exp.experiment_id], filter: "tags.k = 'absent'" });
    expect(none.runs).toEqual([]);
    await srv.client.updateRun(parent.info.run_id, { status: 'FINISHED', endTime: 1_700_000_001_000 });
    const got = await srv.client.getRun(parent.info.run_id);
    expect(got.info.status).toBe('FINISHED');
    expect(got.info.end_time).toBe(1_700_000_001_000);
    expect(got.data.tags).toContainEqual({ key: 'k', value: 'v' });
  });

  it('accepts an identical param again and rejects a changed one as a permanent 400', async () => {
    const exp = await srv.client.getOrCreateExperiment('client-params');
    const run = await srv.client.createRun({ experimentId: exp.experiment_id });
    await srv.client.logBatch(run.info.run_id, { params: [{ key: 'fit.lr', value: '0.001' }] });
    await srv.client.logBatch(run.info.run_id, { params: [{ key: 'fit.lr', value: '0.001' }] });
    const e = await srv.client.logParam(run.info.run_id, 'fit.lr', '0.1').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MlflowError);
    expect((e as MlflowError).code).toBe('INVALID_PARAMETER_VALUE');
    expect((e as MlflowError).transient).toBe(false);
    expect((await srv.client.getRun(run.info.run_id)).data.params).toEqual([{ key: 'fit.lr', value: '0.001' }]);
  });

  it('logs 2500 steps through chunked batches and pages them back in order', async () => {
    const exp = await srv.client.getOrCreateExperiment('client-metrics');
    const run = await srv.client.createRun({ experimentId: exp.experiment_id });
    const metrics: WireMetric[] = Array.from({ length: 2500 }, (_, i) => ({ key: 'loss', value: 1 / (i + 1), timestamp: 1_000 + i, step: i }));
    const batches = chunkBatch({ metrics, params: [], tags: [] });
    expect(batches.map((b) => b.metrics.length)).toEqual([1000, 1000, 500]);
    for (const b of batches) await srv.client.logBatch(run.info.run_id, b);
    const history = await srv.client.getMetricHistory(run.info.run_id, 'loss', { pageSize: 1000 });
    expect(history.length).toBe(2500);
    expect(history.map((m) => m.step)).toEqual(metrics.map((m) => m.step));
    expect(history.map((m) => m.value)).toEqual(metrics.map((m) => m.value));
    const latest = (await srv.client.getRun(run.info.run_id)).data.metrics;
    expect(latest).toEqual([{ key: 'loss', value: 1 / 2500, timestamp: 3499, step: 2499 }]);
  });

  it('round-trips NaN and large values; the sqlite store clamps infinities to the largest double', async () => {
    const exp = await srv.client.getOrCreateExperiment('client-nan');
    const run = await srv.client.createRun({ experimentId: exp.experiment_id });
    await srv.client.logBatch(run.info.run_id, { metrics: [
      { key: 'x', value: 'NaN', timestamp: 1, step: 0 },
      { key: 'x', value: 'Infinity', timestamp: 1, step: 1 },
      { key: 'x', value: '-Infinity', timestamp: 1, step: 2 },
      { key: 'x', value: 1e308, timestamp: 1, step: 3 },
      { key: 'x', value: -0.125, timestamp: 1, step: 4 },
    ] });
    const values = (await srv.client.getMetricHistory(run.info.run_id, 'x')).map((m) => m.value);
    expect(values[0]).toBeNaN();
    expect(values.slice(1)).toEqual([Number.MAX_VALUE, -Number.MAX_VALUE, 1e308, -0.125]);
  });

  it('refuses over-limit batches before sending, and agrees with the server on key rules', async () => {
    const exp = await srv.client.getOrCreateExperiment('client-limits');
    const run = await srv.client.createRun({ experimentId: exp.experiment_id });
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ key: 'm', value: i, timestamp: 1, step: i }));
    const e = await srv.client.logBatch(run.info.run_id, { metrics: tooMany }).catch((x: unknown) => x);
    expect((e as MlflowError).kind).toBe('invalid-request');
    const mixed = chunkBatch({
      metrics: tooMany.slice(0, 900),
      params: Array.from({ length: 150 }, (_, i) => ({ key: `p${i}`, value: 'x'.repeat(6000) })),
      tags: Array.from({ length: 51 }, (_, i) => ({ key: `t${i}`, value: 'v' })),
    });
    for (const b of mixed) {
      expect(b.metrics.length + b.params.length + b.tags.length).toBeLessThanOrEqual(1000);
      expect(b.params.length).toBeLessThanOrEqual(100);
      expect(Buffer.byteLength(JSON.stringify(b))).toBeLessThan(1_000_000);
      await srv.client.logBatch(run.info.run_id, b);
    }
    const got = await srv.client.getRun(run.info.run_id);
    expect(got.data.params.length).toBe(150);
    for (const key of ['a/../b', '/abs', 'a//b', 'bad*char']) {
      expect(keyProblem(key)).toBeDefined();
      const r = await srv.client.logBatch(run.info.run_id, { tags: [{ key, value: 'v' }] }).catch((x: unknown) => x);
      expect((r as MlflowError).status).toBe(400);
    }
    expect(keyProblem('fold 1/val:mae')).toBeUndefined();
    await srv.client.logBatch(run.info.run_id, { tags: [{ key: 'fold 1/val:mae', value: 'v' }] });
  });

  it('uploads, lists and downloads artifacts byte for byte, odd names included', async () => {
    const exp = await srv.client.getOrCreateExperiment('client-artifacts');
    const run = await srv.client.createRun({ experimentId: exp.experiment_id });
    const dir = mkdtempSync(join(tmpdir(), 'mf-art-'));
    const small = join(dir, 'a.txt');
    writeFileSync(small, 'hello, artifacts\n');
    const big = join(dir, 'weights.bin');
    const bytes = randomBytes(5 * 1024 * 1024);
    writeFileSync(big, bytes);
    const uri = run.info.artifact_uri!;
    await srv.client.uploadArtifact(uri, 'plots/loss curve é.txt', small);
    await srv.client.uploadArtifact(uri, 'model/weights.bin', big);
    expect((await srv.client.downloadArtifact(uri, 'plots/loss curve é.txt')).toString()).toBe('hello, artifacts\n');
    const back = await srv.client.downloadArtifact(uri, 'model/weights.bin');
    expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect((await srv.client.listArtifacts(run.info.run_id)).map((f) => [f.path, f.is_dir])).toEqual([['model', true], ['plots', true]]);
    expect(await srv.client.listArtifacts(run.info.run_id, 'model')).toEqual([{ path: 'model/weights.bin', is_dir: false, file_size: bytes.length }]);
  });

  it('maps a wrong base path to ENDPOINT_NOT_FOUND instead of a JSON parse crash', async () => {
    const cfg = srv.config(`${srv.url}/not-mlflow`);
    if (cfg.mode !== 'server') throw new Error('expected a server config');
    const client = createClient(cfg.server);
    const e = await client.getExperimentByName('x').catch((x: unknown) => x);
    await client.close();
    expect(e).toBeInstanceOf(MlflowError);
    expect((e as MlflowError).code).toBe('ENDPOINT_NOT_FOUND');
    expect((e as MlflowError).configuration).toBe(true);
  });
});
