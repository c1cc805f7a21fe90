// The Tracker and sync against a real MLflow server: what the runner logs is exactly what the
// server holds (params, points per metric and their steps, nesting, tags, artifact bytes), live or
// pushed later by sync, and a second sync sends nothing.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { experimentUrl, openTracker, resolveTrackingConfig, syncAll, syncRun, type DatasetInput, type Tracker, type TrackingConfig } from '../../src/track/index.js';
import { FAST_RETRY_ENV, freePort } from './helpers/server.js';
import { loadState, saveState } from '../../src/track/state.js';
import { findChromium, renderedDom } from './helpers/chromium.js';
import { sharedTestServer, type TestServer } from './helpers/server.js';
import { inputsOf, range, runsOf, stepsOf } from './helpers/inspect.js';
import { DEFINE_URL, Rig } from '../e2e/rig.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await sharedTestServer();
});
afterAll(async () => {
  await srv?.stop();
});

const EPOCHS = 25;
const FOLDS = 3;

const CATALOGUE: DatasetInput = { name: 'data/catalogue.fits', digest: '0123456789ab', sourceType: 'local', source: '{"uri":"data/catalogue.fits"}', context: 'source' };
const CUTOUTS: DatasetInput = { name: 'work/cutouts', digest: 'ba9876543210', sourceType: 'local', source: '{"uri":"work/cutouts"}', context: 'stage output', profile: '{"files":600}' };

/** A run shaped like the paper pipeline: root, one training stage, folds under it. */
async function logPipelineRun(projectDir: string, runId: string, config: TrackingConfig, experimentName: string): Promise<{ tracker: Tracker; files: Record<string, Buffer> }> {
  const runDir = join(projectDir, 'runs', runId);
  mkdirSync(runDir, { recursive: true });
  const opened = await openTracker({
    projectDir, runId, runDir, config, experimentName, gitCommit: 'a'.repeat(40), sourceName: 'pipelines/paper.yaml', user: 'tester',
    tuning: { flushIntervalMs: 20 },
  });
  if (!opened.ok) throw new Error(opened.error.message);
  const t = opened.value;
  const files: Record<string, Buffer> = {
    'run.json': Buffer.from(JSON.stringify({ runId, outcome: 'ran' })),
    'plots/loss.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4, 255]),
    'logs/fit-mass.log': Buffer.from('epoch 0\nepoch 1\n'),
    'logs/sub/more.log': Buffer.from('nested\n'),
  };
  for (const [rel, bytes] of Object.entries(files)) {
    mkdirSync(join(runDir, 'out', rel, '..'), { recursive: true });
    writeFileSync(join(runDir, 'out', rel), bytes);
  }
  const must = (r: { ok: boolean; error?: { message: string } }): void => {
    if (!r.ok) throw new Error(r.error?.message);
  };
  must(t.startRun('root', { name: `paper ${runId}` }));
  must(t.logParams('root', { data: { source: 'sim', clusters: 600 }, fit: { lr: 3e-4, epochs: EPOCHS }, cutout: { bands: ['u', 'g', 'r'] } }));
  must(t.logInputs('root', [CATALOGUE]));
  must(t.startRun('stage:fit-mass', { parentKey: 'root', name: 'fit-mass', tags: { 'massflow.fingerprint': 'f'.repeat(64), 'massflow.cache': 'ran' } }));
  must(t.logInputs('stage:fit-mass', [CATALOGUE, CUTOUTS]));
  for (let fold = 0; fold < FOLDS; fold++) {
    const key = `stage:fit-mass/fold:${fold}`;
    must(t.startRun(key, { parentKey: 'stage:fit-mass', name: `fit-mass fold ${fold}` }));
    must(t.logParams(key, { fold }));
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      must(t.logMetric(key, 'train_loss', 1 / (epoch + 1), epoch));
      must(t.logMetric(key, 'val_mae', 0.5 - epoch * 0.01 + fold * 0.001, epoch));
    }
    must(t.logMetric(key, 'test_mae', 0.23 + fold / 100));
    must(t.endRun(key, fold === 2 ? 'FAILED' : 'FINISHED'));
  }
  must(t.logArtifact('stage:fit-mass', join(runDir, 'out', 'logs'), 'logs'));
  must(t.endRun('stage:fit-mass', 'FINISHED'));
  must(t.logMetric('root', 'cv_mae', 0.232));
  must(t.logArtifact('root', join(runDir, 'out', 'run.json')));
  must(t.logArtifact('root', join(runDir, 'out', 'plots', 'loss.png'), 'plots/loss.png'));
  must(t.setTags('root', { 'massflow.cache': 'ran=4 restored=1' }));
  must(t.endRun('root', 'FINISHED'));
  return { tracker: t, files };
}

async function expectExactlyLogged(experimentName: string, runId: string, files: Record<string, Buffer>): Promise<void> {
  const runs = await runsOf(srv.client, experimentName, runId);
  expect([...runs.keys()].sort()).toEqual(['root', 'stage:fit-mass', 'stage:fit-mass/fold:0', 'stage:fit-mass/fold:1', 'stage:fit-mass/fold:2']);
  const root = runs.get('root')!;
  const stage = runs.get('stage:fit-mass')!;

  // Params, flattened; nothing else.
  expect(root.params).toEqual({ 'data.source': 'sim', 'data.clusters': '600', 'fit.lr': '0.0003', 'fit.epochs': String(EPOCHS), 'cutout.bands': '["u","g","r"]' });
  // System and massflow tags.
  expect(root.tags).toMatchObject({
    'mlflow.runName': `paper ${runId}`, 'mlflow.user': 'tester', 'mlflow.source.name': 'pipelines/paper.yaml', 'mlflow.source.type': 'LOCAL',
    'mlflow.source.git.commit': 'a'.repeat(40), 'massflow.run_id': runId, 'massflow.cache': 'ran=4 restored=1',
  });
  expect(root.tags['mlflow.parentRunId']).toBeUndefined();
  expect(root.run.info.status).toBe('FINISHED');
  // Nesting.
  expect(stage.tags['mlflow.parentRunId']).toBe(root.run.info.run_id);
  expect(stage.tags).toMatchObject({ 'massflow.fingerprint': 'f'.repeat(64), 'massflow.cache': 'ran' });
  for (let fold = 0; fold < FOLDS; fold++) {
    const f = runs.get(`stage:fit-mass/fold:${fold}`)!;
    expect(f.tags['mlflow.parentRunId']).toBe(stage.run.info.run_id);
    expect(f.params).toEqual({ fold: String(fold) });
    expect(f.run.info.status).toBe(fold === 2 ? 'FAILED' : 'FINISHED');
    // Exactly one point per epoch per metric, with its step.
    expect(await stepsOf(srv.client, f.run.info.run_id, 'train_loss')).toEqual(range(EPOCHS));
    expect(await stepsOf(srv.client, f.run.info.run_id, 'val_mae')).toEqual(range(EPOCHS));
    expect(await stepsOf(srv.client, f.run.info.run_id, 'test_mae')).toEqual([0]);
    const hist = await srv.client.getMetricHistory(f.run.info.run_id, 'train_loss');
    expect(hist.map((m) => m.value)).toEqual(range(EPOCHS).map((e) => 1 / (e + 1)));
  }
  expect(await stepsOf(srv.client, root.run.info.run_id, 'cv_mae')).toEqual([0]);
  // Dataset inputs, each once.
  expect(inputsOf(root.run)).toEqual([CATALOGUE]);
  expect(inputsOf(stage.run)).toEqual([CATALOGUE, CUTOUTS]);
  // Artifacts, byte for byte, directories included.
  const uri = (k: string): string => runs.get(k)!.run.info.artifact_uri!;
  expect(await srv.client.downloadArtifact(uri('root'), 'run.json')).toEqual(files['run.json']);
  expect(await srv.client.downloadArtifact(uri('root'), 'plots/loss.png')).toEqual(files['plots/loss.png']);
  expect(await srv.client.downloadArtifact(uri('stage:fit-mass'), 'logs/fit-mass.log')).toEqual(files['logs/fit-mass.log']);
  expect(await srv.client.downloadArtifact(uri('stage:fit-mass'), 'logs/sub/more.log')).toEqual(files['logs/sub/more.log']);
  expect((await srv.client.listArtifacts(root.run.info.run_id)).map((f) => f.path).sort()).toEqual(['plots', 'run.json']);
}

describe('Tracker with a live server', () => {
  it('delivers a pipeline-shaped run while it runs: params, nested runs, per-epoch metrics, tags, artifacts', async () => {
    const projectDir = mkdtempSync(join(tmpdir(), 'mf-track-'));
    const { tracker, files } = await logPipelineRun(projectDir, 'run-live-1', srv.config(), 'paper-live');
    const summary = await tracker.close({ flushTimeoutMs: 30_000 });
    expect(summary.mode).toBe('server');
    expect(summary.pending).toBe(0);
    expect(summary.rejected).toEqual([]);
    expect(summary.delivered).toBe(summary.recorded);
    await expectExactlyLogged('paper-live', 'run-live-1', files);

    // The outbox is JSON lines with consecutive sequence numbers.
    const lines = readFileSync(join(summary.outboxDir, 'ops.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seq: number; op: string });
    expect(lines.map((l) => l.seq)).toEqual(range(summary.recorded, 1));
    expect(lines.filter((l) => l.op === 'metric').length).toBe(FOLDS * (2 * EPOCHS + 1) + 1);

    // Nothing was left pending, so a sync makes no request at all.
    const again = await syncRun(join(projectDir, 'runs', 'run-live-1'), srv.config());
    expect(again.status).toBe('up-to-date');
    expect(again.requests).toBe(0);
  });

  it('records offline, then sync pushes everything exactly once; a second sync sends nothing', async () => {
    const projectDir = mkdtempSync(join(tmpdir(), 'mf-track-'));
    const offline: TrackingConfig = { mode: 'offline' };
    const { tracker, files } = await logPipelineRun(projectDir, 'run-offline-1', offline, 'paper-offline');
    const summary = await tracker.close();
    expect(summary.mode).toBe('offline');
    expect(summary.delivered).toBe(0);
    expect(summary.pending).toBe(summary.recorded);
    expect(await srv.client.getExperimentByName('paper-offline')).toBeUndefined();

    const first = await syncAll(projectDir, srv.config());
    expect(first.runs.map((r) => [r.runId, r.status, r.pending])).toEqual([['run-offline-1', 'synced', 0]]);
    expect(first.runs[0]!.sentOps).toBe(summary.recorded);
    expect(first.runs[0]!.sentPoints).toBe(FOLDS * (2 * EPOCHS + 1) + 1);
    await expectExactlyLogged('paper-offline', 'run-offline-1', files);

    const second = await syncAll(projectDir, srv.config());
    expect(second.runs.map((r) => [r.status, r.sentOps, r.requests])).toEqual([['up-to-date', 0, 0]]);
    await expectExactlyLogged('paper-offline', 'run-offline-1', files);
  });

  it('sends dataset inputs again after a lost acknowledgement without adding a second input', async () => {
    const projectDir = mkdtempSync(join(tmpdir(), 'mf-track-'));
    const runDir = join(projectDir, 'runs', 'run-inputs');
    const opened = await openTracker({ projectDir, runId: 'run-inputs', runDir, config: { mode: 'offline' }, experimentName: 'inputs-again' });
    if (!opened.ok) throw new Error(opened.error.message);
    const t = opened.value;
    t.startRun('root', { name: 'inputs' });
    expect(t.logInputs('root', [CATALOGUE, CUTOUTS]).ok).toBe(true);
    t.endRun('root', 'FINISHED');
    await t.close();
    expect((await syncRun(runDir, srv.config())).status).toBe('synced');

    // The acknowledgement of everything after the start is lost: the next sync sends the inputs again.
    const trackingDir = join(runDir, 'tracking');
    const state = loadState(trackingDir, srv.url);
    if (!state.ok) throw new Error(state.error);
    const firstLine = readFileSync(join(trackingDir, 'ops.jsonl'), 'utf8').split('\n')[0]!;
    saveState(trackingDir, { ...state.value, acked: 1, offset: Buffer.byteLength(firstLine) + 1 });
    const again = await syncRun(runDir, srv.config());
    expect([again.status, again.sentOps, again.rejected]).toEqual(['synced', 2, []]);
    const root = (await runsOf(srv.client, 'inputs-again', 'run-inputs')).get('root')!;
    expect(inputsOf(root.run)).toEqual([CATALOGUE, CUTOUTS]);
  });

  it('refuses a dataset input the server would: an over-long digest is reported, not sent', async () => {
    const projectDir = mkdtempSync(join(tmpdir(), 'mf-track-'));
    const opened = await openTracker({ projectDir, runId: 'run-bad-input', runDir: join(projectDir, 'runs', 'run-bad-input'), config: { mode: 'offline' }, experimentName: 'x' });
    if (!opened.ok) throw new Error(opened.error.message);
    opened.value.startRun('root', { name: 'x' });
    const r = opened.value.logInputs('root', [{ ...CATALOGUE, digest: 'f'.repeat(64) }]);
    expect(r).toEqual({ ok: false, error: { kind: 'invalid-value', message: 'dataset "data/catalogue.fits" of root: the digest is 64 characters long (at most 36)' } });
    await opened.value.close();
  });

  it('reads a backlog bigger than its memory queue back from disk, window by window, without gaps', async () => {
    const projectDir = mkdtempSync(join(tmpdir(), 'mf-track-'));
    const runDir = join(projectDir, 'runs', 'run-spill');
    const opened = await openTracker({ projectDir, runId: 'run-spill', runDir, config: srv.config(), experimentName: 'spill', tuning: { maxQueued: 100, windowOps: 64, flushIntervalMs: 5 } });
    if (!opened.ok) throw new Error(opened.error.message);
    const t = opened.value;
    t.startRun('root', { name: 'spill' });
    for (let round = 0; round < 4; round++) {
      // 500 points per flush: each flush alone overflows the 100-op memory queue.
      for (let s = round * 500; s < (round + 1) * 500; s++) t.logMetric('root', 'loss', s / 7, s);
      await new Promise((r) => setTimeout(r, 30));
    }
    t.endRun('root', 'FINISHED');
    const summary = await t.close({ flushTimeoutMs: 60_000 });
    expect([summary.pending, summary.recorded]).toEqual([0, 2002]);
    const root = (await runsOf(srv.client, 'spill', 'run-spill')).get('root')!;
    expect(await stepsOf(srv.client, root.run.info.run_id, 'loss')).toEqual(range(2000));
  });

  it('keeps everything pending, promptly and with a clear reason, when the server is absent or the experiment deleted', async () => {
    const projectDir = mkdtempSync(join(tmpdir(), 'mf-track-'));
    const { tracker } = await logPipelineRun(projectDir, 'run-nowhere', { mode: 'offline' }, 'paper-nowhere');
    const recorded = (await tracker.close()).recorded;
    const nowhere = await syncRun(join(projectDir, 'runs', 'run-nowhere'), srv.config(`http://127.0.0.1:${await freePort()}`));
    expect([nowhere.status, nowhere.pending]).toEqual(['failed', recorded]);
    expect(nowhere.message).toMatch(/connection refused/);

    const exp = await srv.client.getOrCreateExperiment('paper-deleted');
    await srv.client.deleteExperiment(exp.experiment_id);
    const t0 = Date.now();
    const { tracker: t } = await logPipelineRun(projectDir, 'run-deleted', srv.config(), 'paper-deleted');
    const summary = await t.close({ flushTimeoutMs: 30_000 });
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(summary.pending).toBe(summary.recorded);
    expect(summary.lastError).toMatch(/experiment "paper-deleted" is deleted on the server/);
  });

  it('sync without a server configured says how to configure one', async () => {
    const projectDir = mkdtempSync(join(tmpdir(), 'mf-track-'));
    const { tracker } = await logPipelineRun(projectDir, 'run-x', { mode: 'offline' }, 'paper-x');
    await tracker.close();
    const r = await syncRun(join(projectDir, 'runs', 'run-x'), { mode: 'offline' });
    expect(r.status).toBe('failed');
    expect(r.message).toMatch(/MLFLOW_TRACKING_URI/);
  });
});

/** Every file below `dir`, as text. */
function allText(dir: string): string {
  let out = '';
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out += readFileSync(join(e.parentPath, e.name), 'utf8');
  }
  return out;
}

describe('secrets', () => {
  const PASSWORD = 'pw-Zq8-never-shown';
  const TOKEN = 'tok-Xv3-never-shown';
  const URI_PASSWORD = 'uri-Kk1-never-shown';
  const env = { ...FAST_RETRY_ENV, MLFLOW_TRACKING_USERNAME: 'ann', MLFLOW_TRACKING_PASSWORD: PASSWORD, MLFLOW_TRACKING_TOKEN: TOKEN };

  it('never reach the outbox, the sync state, warnings, errors, params or tags', async () => {
    const projectDir = mkdtempSync(join(tmpdir(), 'mf-secret-'));
    const warnings: string[] = [];
    const logRun = async (runId: string, uri: string) => {
      const cfg = resolveTrackingConfig({ env, flags: { uri: uri.replace('http://', `http://bob:${URI_PASSWORD}@`) } });
      if (!cfg.ok) throw new Error(JSON.stringify(cfg.error));
      const runDir = join(projectDir, 'runs', runId);
      const opened = await openTracker({ projectDir, runId, runDir, config: cfg.value, experimentName: 'tracker-secrets', env, onWarning: (w) => warnings.push(w) });
      if (!opened.ok) throw new Error(opened.error.message);
      const t = opened.value;
      t.startRun('root', { name: `run with ${PASSWORD}` });
      t.logParams('root', { db: { password: PASSWORD, user: 'ann' }, token: TOKEN, note: `token is ${TOKEN}` });
      t.setTags('root', { 'massflow.note': `uri pass ${URI_PASSWORD}` });
      t.logMetric('root', 'loss', 1);
      t.endRun('root', 'FINISHED');
      return { summary: await t.close({ flushTimeoutMs: 15_000 }), runDir, cfg: cfg.value };
    };

    // Delivered to the real server.
    const good = await logRun('run-secret', srv.url);
    expect(good.summary.pending).toBe(0);
    const runs = await runsOf(srv.client, 'tracker-secrets', 'run-secret');
    const root = runs.get('root')!;
    expect(root.params).toEqual({ 'db.password': '***', 'db.user': 'ann', token: '***', note: 'token is ***' });
    const onServer = JSON.stringify(root.run);
    // Against a path that is not MLflow: delivery fails, and its error messages are shown.
    const bad = await logRun('run-secret-bad', `${srv.url}/not-mlflow`);
    expect(bad.summary.pending).toBeGreaterThan(0);
    expect(bad.summary.lastError).toMatch(/ENDPOINT_NOT_FOUND|not JSON|404/);
    const sync = await syncRun(bad.runDir, bad.cfg);
    expect(sync.status).toBe('failed');

    const everything = [allText(join(projectDir, 'runs')), onServer, warnings.join('\n'), bad.summary.lastError ?? '', sync.message ?? '', JSON.stringify([good, bad, sync])].join('\n');
    for (const secret of [PASSWORD, TOKEN, URI_PASSWORD]) expect(everything).not.toContain(secret);
    expect(warnings.length).toBeGreaterThan(0);
  });
});

// The MLflow UI's run page, rendered by headless Chromium (Debian package `chromium`), shows what
// massflow logged. In CI (CI set, as .ci/run does, which installs the browser) or with
// MASSFLOW_REQUIRE_CHROMIUM=1 a missing browser fails the test; elsewhere it is a reported skip.
const chromium = findChromium();
const chromiumRequired = ['1', 'true'].includes((process.env.CI ?? '').toLowerCase()) || process.env.MASSFLOW_REQUIRE_CHROMIUM === '1';
describe.skipIf(!chromium && !chromiumRequired)(`MLflow UI${chromium || chromiumRequired ? '' : ' (skipped: chromium not installed; apt-get install chromium)'}`, () => {
  it('renders the run page of a massflow run with its name and params', async () => {
    if (!chromium) throw new Error('no chromium on PATH (nor MASSFLOW_CHROMIUM), which CI requires: apt-get install chromium');
    const projectDir = mkdtempSync(join(tmpdir(), 'mf-ui-'));
    const { tracker } = await logPipelineRun(projectDir, 'run-ui', srv.config(), 'paper-ui');
    expect((await tracker.close({ flushTimeoutMs: 30_000 })).pending).toBe(0);
    const runs = await runsOf(srv.client, 'paper-ui', 'run-ui');
    const root = runs.get('root')!.run.info;
    const dom = await renderedDom(chromium!, `${srv.url}/#/experiments/${root.experiment_id}/runs/${root.run_id}`);
    expect(dom).toContain('paper run-ui');
    for (const text of ['fit.lr', '0.0003', 'data.clusters', 'cutout.bands']) expect(dom).toContain(text);
  });

  it('opens a massflow experiment on its runs table (one row per run, its dataset shown), the top-level run page showing the headline metric and dataset; a no-op rerun adds no row', async () => {
    if (!chromium) throw new Error('no chromium on PATH (nor MASSFLOW_CHROMIUM), which CI requires: apt-get install chromium');
    const rig = Rig.create({
      'pipelines/u.yaml': `
name: ui-table
params: { fit: { lr: 0.01 } }
summary: [score/mae_mean]
stages:
  score: { run: stages/score.ts, deps: [data/sky.csv], params: [fit], outs: [s.txt] }
`,
      'data/sky.csv': 'ra,dec\n1,2\n',
      'stages/score.ts': `
import { writeFileSync } from 'node:fs';
import { defineStage } from '${DEFINE_URL}';
export default defineStage({ async run(ctx) { ctx.metric('mae_mean', 0.1234); ctx.metric('other', 7); writeFileSync(ctx.outDir, 'x'); } });
`,
    });
    try {
      const run = () => rig.run(['run', 'pipelines/u.yaml', '--tracking-uri', srv.url, '-p', 'fit.lr=0.02']);
      expect((await run()).code).toBe(0);
      const exp = (await srv.client.getExperimentByName('ui-table'))!;
      const table = async () => renderedDom(chromium!, experimentUrl(srv.url, exp.experiment_id));
      const rows = (dom: string) => dom.split('ui-table fit.lr=0.02').length - 1;
      const first = await table();
      // The runs table, not MLflow 3's GenAI view ("Traces", "Detect issues") an experiment without a kind opens on.
      expect(first).not.toContain('Detect issues');
      expect(first).toContain('Run Name');
      expect(rows(first)).toBe(1);
      // The Dataset column names the source data the run read.
      expect(first).toContain('data/sky.csv');
      // MLflow's runs table lists metric columns only once picked under "Columns"; the top-level
      // run's page shows the headline metric (and REST checks it in test/e2e/tracking.test.ts).
      const root = (await runsOf(srv.client, 'ui-table', readdirSync(rig.path('runs')).sort().at(-1)!)).get('root')!.run.info;
      const page = await renderedDom(chromium!, `${srv.url}/#/experiments/${exp.experiment_id}/runs/${root.run_id}`);
      expect(page).toContain('mae_mean');
      expect(page).toContain('0.1234');
      expect(page).toContain('data/sky.csv');
      const again = await run();
      expect(again.stdout).toContain('tracking: nothing ran');
      expect(rows(await table())).toBe(1);
    } finally {
      rig.cleanup();
    }
  }, 240_000);
});
