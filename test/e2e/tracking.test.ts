// `massflow run` against a real MLflow server: the nesting, params, metric steps and artifacts the
// runner logs; offline runs delivered later by `massflow sync`, exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { startTestServer, type TestServer } from '../track/helpers/server.js';
import { runsOf, stepsOf } from '../track/helpers/inspect.js';
import { DEFINE_URL, Rig } from './rig.js';

let server: TestServer;
let rig: Rig;
beforeAll(async () => { server = await startTestServer(); }, 180_000);
afterAll(async () => { await server?.stop(); rig?.cleanup(); });

const PIPE = `
name: tracked
params:
  train: { epochs: 5, lr: 0.01 }
  cv: { folds: 2 }
stages:
  prep: { cmd: [node, -e, "require('fs').writeFileSync('prep.txt','p')"], outs: [prep.txt] }
  train:
    foreach: { fold: "\${range(cv.folds)}" }
    run: stages/train.ts
    deps: [prep.txt]
    params: [train]
    outs: ["models/m\${fold}.txt"]
`;

const TRAIN = `
import { writeFileSync } from 'node:fs';
import { defineStage } from '${DEFINE_URL}';
export default defineStage({
  async run(ctx) {
    for (let e = 0; e < ctx.params.train.epochs; e++) ctx.metric('loss', 1 / (e + 1), e);
    ctx.metric('mae', 0.2 + Number(ctx.vars.fold) / 100);
    writeFileSync(ctx.outDir, 'model');
  },
});
`;

const runIdOf = (r: Rig) => readdirSync(r.path('runs')).sort().at(-1)!;

describe('tracking through the CLI', () => {
  it('logs nested runs, params, per-epoch metrics and artifacts; offline runs sync exactly once', async () => {
    rig = Rig.create({ 'pipelines/t.yaml': PIPE, 'stages/train.ts': TRAIN });
    const r = await rig.run(['run', 'pipelines/t.yaml', '--tracking-uri', server.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/tracking: \d+ records delivered to http:\/\/127\.0\.0\.1:\d+/);
    const runs = await runsOf(server.client, 'tracked', runIdOf(rig));
    expect([...runs.keys()].sort()).toEqual(['group:train', 'root', 'stage:prep', 'stage:train@fold=0', 'stage:train@fold=1']);
    const root = runs.get('root')!, group = runs.get('group:train')!, fold1 = runs.get('stage:train@fold=1')!;
    expect(root.params).toMatchObject({ 'train.epochs': '5', 'train.lr': '0.01', 'cv.folds': '2' });
    expect(group.tags['mlflow.parentRunId']).toBe(root.run.info.run_id);
    expect(fold1.tags['mlflow.parentRunId']).toBe(group.run.info.run_id);
    expect(fold1.tags['massflow.cache']).toBe('ran');
    expect(fold1.tags['massflow.fingerprint']).toMatch(/^[0-9a-f]{64}$/);
    expect(fold1.params).toMatchObject({ 'train.lr': '0.01', 'vars.fold': '1' });
    expect(await stepsOf(server.client, fold1.run.info.run_id, 'loss')).toEqual([0, 1, 2, 3, 4]);
    expect(await stepsOf(server.client, fold1.run.info.run_id, 'mae')).toEqual([0]);
    const arts = await server.client.listArtifacts(root.run.info.run_id);
    expect(JSON.stringify(arts)).toContain('run.json');

    // Offline: the run is kept under runs/, then `sync` delivers it, and a second sync sends nothing.
    const off = await rig.run(['run', 'pipelines/t.yaml', '-p', 'train.epochs=3', '--tracking-uri', 'none']);
    expect(off.code).toBe(0);
    expect(off.stdout).toContain('tracking: offline');
    const offId = runIdOf(rig);
    const s1 = await rig.run(['sync', offId, '--tracking-uri', server.url]);
    expect(s1.code).toBe(0);
    expect(s1.stdout).toMatch(new RegExp(`${offId}: \\d+ records sent`));
    const s2 = await rig.run(['sync', offId, '--tracking-uri', server.url]);
    expect(s2.stdout).toContain(`${offId}: nothing new to send`);
    const synced = await runsOf(server.client, 'tracked', offId);
    expect(await stepsOf(server.client, synced.get('stage:train@fold=0')!.run.info.run_id, 'loss')).toEqual([0, 1, 2]);
  }, 120_000);

  it('keeps tracking credentials out of stage environments, and masks known secrets in stage logs, locally and in MLflow', async () => {
    const SECRETS = ['uri-pass-5e3c1a', 'env-pass-77aa0b', 'env-token-9f8e7d'];
    const secretRig = Rig.create({
      'pipelines/s.yaml': `
name: secrets
stages:
  show: { cmd: [sh, -c, "env | sort; echo copy=$SECRET_COPY; echo ok > shown.txt"], outs: [shown.txt] }
  ts: { run: stages/ts.ts, outs: [ts.txt] }
`,
      'stages/ts.ts': `
import { writeFileSync } from 'node:fs';
import { defineStage } from '${DEFINE_URL}';
export default defineStage({
  async run(ctx) {
    console.log('password=' + (process.env.MLFLOW_TRACKING_PASSWORD ?? 'unset') + ' token=' + (process.env.MLFLOW_TRACKING_TOKEN ?? 'unset'));
    ctx.log('uri=' + process.env.MLFLOW_TRACKING_URI);
    writeFileSync(ctx.outDir, 'ok');
  },
});
`,
    });
    try {
      const uri = server.url.replace('http://', 'http://mfuser:uri-pass-5e3c1a@');
      const r = await secretRig.run(['run', 'pipelines/s.yaml'], {
        MLFLOW_TRACKING_URI: uri, MLFLOW_TRACKING_USERNAME: 'mfuser', MLFLOW_TRACKING_PASSWORD: 'env-pass-77aa0b',
        MLFLOW_TRACKING_TOKEN: 'env-token-9f8e7d', SECRET_COPY: 'env-pass-77aa0b',
      });
      expect(r.code).toBe(0);
      const id = runIdOf(secretRig);
      const showLog = secretRig.read(`runs/${id}/logs/show.log`);
      const tsLog = secretRig.read(`runs/${id}/logs/ts.log`);
      // The stage saw the server without userinfo and no other tracking variable.
      expect(showLog).toContain(`MLFLOW_TRACKING_URI=${server.url}/`);
      expect(showLog).not.toMatch(/MLFLOW_TRACKING_(PASSWORD|TOKEN|USERNAME)=/);
      expect(showLog).toContain('SECRET_COPY=***');
      expect(showLog).toContain('copy=***');
      expect(tsLog).toContain('password=unset token=unset');
      expect(tsLog).toContain(`uri=${server.url}/`);
      const record = secretRig.read(`runs/${id}/run.json`);
      const outbox = secretRig.read(`runs/${id}/tracking/ops.jsonl`);
      for (const text of [showLog, tsLog, record, outbox, r.stdout, r.stderr]) for (const s of SECRETS) expect(text).not.toContain(s);

      // The log uploaded to MLflow is the masked one.
      const runs = await runsOf(server.client, 'secrets', id);
      const show = runs.get('stage:show')!;
      const uploaded = (await server.client.downloadArtifact(show.run.info.artifact_uri!, 'logs/show.log')).toString('utf8');
      expect(uploaded).toBe(showLog);
    } finally {
      secretRig.cleanup();
    }
  }, 120_000);
});
