// `massflow run` against a real MLflow server: the nesting, params, metric steps and artifacts the
// runner logs; offline runs delivered later by `massflow sync`, exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { sharedTestServer, type TestServer } from '../track/helpers/server.js';
import { inputsOf, runsOf, stepsOf } from '../track/helpers/inspect.js';
import { createHash } from 'node:crypto';
import { DEFINE_URL, normalize, Rig } from './rig.js';

let server: TestServer;
let rig: Rig;
beforeAll(async () => { server = await sharedTestServer(); }, 180_000);
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

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
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

  it('makes runs comparable in the MLflow table: kind tag, headline metrics, telling names, a note, no rows for a no-op rerun, cached metrics carried over', async () => {
    const abl = Rig.create({
      'pipelines/a.yaml': `
name: ablate
description: Ablation fixture. Compare **mae_mean** across runs.
params:
  train: { lr: 0.01 }
  cv: { k: 2 }
summary: [cv/mae_mean]
stages:
  train: { run: stages/train.ts, params: [train], outs: [m.txt] }
  cv: { run: stages/cv.ts, deps: [m.txt, data/sky.csv], params: [cv], outs: [cv.txt] }
`,
      'data/sky.csv': 'ra,dec\n1,2\n',
      'stages/train.ts': `
import { writeFileSync } from 'node:fs';
import { defineStage } from '${DEFINE_URL}';
export default defineStage({ async run(ctx) { ctx.metric('train_loss', ctx.params.train.lr * 10); writeFileSync(ctx.outDir, String(ctx.params.train.lr)); } });
`,
      'stages/cv.ts': `
import { readFileSync, writeFileSync } from 'node:fs';
import { defineStage } from '${DEFINE_URL}';
export default defineStage({ async run(ctx) {
  const lr = Number(readFileSync(ctx.projectDir + '/m.txt', 'utf8'));
  ctx.metric('mae_mean', lr + ctx.params.cv.k / 100); ctx.metric('mae_std', 0.5);
  writeFileSync(ctx.outDir, 'cv');
} });
`,
    });
    try {
      const run = (...args: string[]) => abl.run(['run', 'pipelines/a.yaml', '--tracking-uri', server.url, ...args]);
      const r1 = await run('-p', 'train.lr=0.02');
      expect(r1.code).toBe(0);
      const id1 = runIdOf(abl);
      const exp = (await server.client.getExperimentByName('ablate'))!;
      expect(exp.tags).toContainEqual({ key: 'mlflow.experimentKind', value: 'custom_model_development' });
      const runs1 = await runsOf(server.client, 'ablate', id1);
      const root1 = runs1.get('root')!;
      expect(root1.run.info.run_name).toBe('ablate train.lr=0.02');
      expect(root1.tags['massflow.run_id']).toBe(id1);
      expect(root1.run.data.metrics?.map((m) => [m.key, m.value])).toEqual([['mae_mean', 0.04]]);
      // Dataset inputs: the source data on the top-level run, each stage's deps on its run, with
      // massflow's content digests (the stage output's from the run record).
      const rec1 = JSON.parse(abl.read(`runs/${id1}/run.json`));
      const sky = { name: 'data/sky.csv', digest: sha256(abl.read('data/sky.csv')).slice(0, 12), sourceType: 'local', source: '{"uri":"data/sky.csv"}', context: 'source' };
      expect(inputsOf(root1.run)).toEqual([sky]);
      expect(inputsOf(runs1.get('stage:cv')!.run)).toEqual([
        sky,
        { name: 'm.txt', digest: rec1.stages.train.outputs['m.txt'].digest.slice(0, 12), sourceType: 'local', source: '{"uri":"m.txt"}', context: 'stage output' },
      ]);
      expect(inputsOf(runs1.get('stage:train')!.run)).toEqual([]);
      expect(root1.tags['mlflow.note.content']).toBe([
        'Ablation fixture. Compare **mae_mean** across runs.', '',
        '```', `massflow run pipelines/a.yaml --tracking-uri ${server.url} -p train.lr=0.02`, '```', '',
        'Profiles: none. Overrides: `train.lr=0.02`.', '',
        '| metric | value |', '|---|---|', '| mae_mean | 0.04 |',
      ].join('\n'));

      // The same command again executes nothing: no MLflow run at all, and the line says where the results are.
      const before = (await server.client.searchAllRuns({ experimentIds: [exp.experiment_id], viewType: 'ALL' })).length;
      const r2 = await run('-p', 'train.lr=0.02');
      expect(r2.stdout).toContain(`tracking: nothing ran, so no MLflow run was logged (results from run ${id1}); --track-unchanged logs one anyway`);
      expect((await server.client.searchAllRuns({ experimentIds: [exp.experiment_id], viewType: 'ALL' })).length).toBe(before);
      expect(abl.exists(`runs/${runIdOf(abl)}/tracking`)).toBe(false);

      // A partial rerun: train is cached, and its row carries the metrics of the run that computed them.
      const r3 = await run('-p', 'train.lr=0.02', '-p', 'cv.k=3');
      expect(r3.code).toBe(0);
      const id3 = runIdOf(abl);
      const runs3 = await runsOf(server.client, 'ablate', id3);
      expect(runs3.get('root')!.run.info.run_name).toBe('ablate train.lr=0.02 cv.k=3');
      expect(runs3.get('root')!.run.data.metrics?.map((m) => [m.key, m.value])).toEqual([['mae_mean', 0.05]]);
      const train3 = runs3.get('stage:train')!;
      expect(train3.tags['massflow.cache']).toBe('fresh');
      expect(train3.tags['massflow.from_run']).toBe(id1);
      expect(train3.run.data.metrics?.map((m) => [m.key, m.value])).toEqual([['train_loss', 0.2]]);
      expect(JSON.parse(abl.read(`runs/${id3}/run.json`)).stages.train).toMatchObject({ from: id1, metrics: { train_loss: 0.2 } });

      // --track-unchanged logs a no-op run anyway; an experiment kind a user chose is kept.
      const userExp = await server.client.createExperiment('ablate-user', [{ key: 'mlflow.experimentKind', value: 'genai_development' }]);
      const r4 = await run('-p', 'train.lr=0.02', '-p', 'cv.k=3', '--track-unchanged', '--experiment', 'ablate-user');
      expect(r4.stdout).toMatch(/tracking: \d+ records delivered/);
      const runs4 = await runsOf(server.client, 'ablate-user', runIdOf(abl));
      expect(runs4.get('root')!.run.data.metrics?.map((m) => m.key)).toEqual(['mae_mean']);
      const kept = (await server.client.getExperimentByName('ablate-user'))!;
      expect(kept.experiment_id).toBe(userExp);
      expect(kept.tags).toContainEqual({ key: 'mlflow.experimentKind', value: 'genai_development' });
    } finally {
      abl.cleanup();
    }
  }, 180_000);
});

describe('system metrics per stage', () => {
  it("logs wall time, CPU time (children included) and peak RSS under system/ on the stage run and in run.json; the timeline goes to the top-level run and `massflow trace`", async () => {
    // The busy work runs in a grandchild (a shell runs node): CPU and memory of descendants count.
    // The buffer is held while the loop runs: peak RSS is sampled every 100 ms, so memory a process
    // holds for less than that can be missed (docs/tracking.md).
    const BURN = "const b=Buffer.alloc(160e6,1); let x=0; for (let i=0;i<4e8;i++) x+=i%7; require('fs').writeFileSync('c.txt', String(x+b[5]))";
    const sys = Rig.create({
      'pipelines/s.yaml': `
name: sysmetrics
params: { light: { n: 1 } }
stages:
  burn: { cmd: "node -e \\"${BURN}\\" && true", outs: [c.txt] }
  light: { run: stages/light.ts, deps: [c.txt], params: [light], outs: [l.txt] }
`,
      'stages/light.ts': `
import { writeFileSync } from 'node:fs';
import { defineStage } from '${DEFINE_URL}';
export default defineStage({ async run(ctx) { writeFileSync(ctx.outDir, 'l'); } });
`,
    });
    try {
      const r = await sys.run(['run', 'pipelines/s.yaml', '--tracking-uri', server.url]);
      expect(r.code).toBe(0);
      const id = runIdOf(sys);
      const rec = JSON.parse(sys.read(`runs/${id}/run.json`));
      const burn = rec.stages.burn, light = rec.stages.light;
      // 4e8 loop iterations take well over 0.2 s of CPU on any machine, however loaded; the
      // 160 MB buffer is resident in the node process the shell started.
      expect(burn.usage.cpuMs).toBeGreaterThan(200);
      expect(burn.usage.peakRssBytes).toBeGreaterThan(160e6);
      expect(light.usage.cpuMs).toBeGreaterThan(0);
      expect(light.usage.peakRssBytes).toBeGreaterThan(20e6);
      expect(light.usage.peakRssBytes).toBeLessThan(burn.usage.peakRssBytes);

      const runs = await runsOf(server.client, 'sysmetrics', id);
      const metrics = (key: string) => Object.fromEntries(runs.get(key)!.run.data.metrics.map((m) => [m.key, m.value]));
      const m = metrics('stage:burn');
      expect(Object.keys(m).sort()).toEqual(['system/cpu_time_seconds', 'system/cpu_utilization_percentage', 'system/peak_rss_megabytes', 'system/wall_time_seconds']);
      expect(m['system/wall_time_seconds']).toBe(burn.durationMs / 1000);
      expect(m['system/cpu_time_seconds']).toBe(burn.usage.cpuMs / 1000);
      expect(m['system/peak_rss_megabytes']).toBe(Math.round((burn.usage.peakRssBytes / 2 ** 20) * 10) / 10);
      expect(m['system/cpu_utilization_percentage']).toBe(Math.round((burn.usage.cpuMs / burn.durationMs) * 1000) / 10);
      expect(metrics('stage:light')['system/cpu_time_seconds']).toBe(light.usage.cpuMs / 1000);

      // The top-level run carries the stages' timeline as an SVG, the one in runs/<id>/: a bar per
      // stage that ran, titled with its outcome.
      const root = runs.get('root')!.run.info;
      const svg = await server.client.downloadArtifact(root.artifact_uri!, 'timeline.svg');
      expect(svg).toEqual(readFileSync(sys.path(`runs/${id}/timeline.svg`)));
      expect(svg.toString()).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="960" /);
      expect(svg.toString().match(/<title>[^<]*<\/title>/g)?.map((t) => t.replace(/, [^,]*<\/title>$/, ''))).toEqual(['<title>burn: ran', '<title>light: ran']);

      // A partial rerun: burn comes from the cache. `massflow trace` prints the timeline and writes
      // the Chrome trace: light ran after burn on slot 1, burn is marked as cached.
      expect((await sys.run(['run', 'pipelines/s.yaml', '--tracking-uri', 'none', '-p', 'light.n=2'])).code).toBe(0);
      const id2 = runIdOf(sys);
      const tr = await sys.run(['trace', '--png', 'tl.png']);
      expect(tr.code).toBe(0);
      const rec2 = JSON.parse(sys.read(`runs/${id2}/run.json`));
      // Column widths follow the figures, so spaces are compared as one.
      expect(normalize(tr.stdout).replace(/ +/g, ' ')).toBe([
        'sysmetrics RUNID: Ns, 2 stages on 1 slot',
        ' stage slot start wall cpu peak rss outcome',
        ' burn 1 Ns Ns - - fresh (from RUNID)',
        ` light 1 Ns Ns Ns ${Math.round(rec2.stages.light.usage.peakRssBytes / 2 ** 20)}MiB ran`,
        '',
        'trace: runs/RUNID/trace.json (open in ui.perfetto.dev or chrome://tracing)',
        'timeline: tl.png',
        '',
      ].join('\n'));
      const trace = JSON.parse(sys.read(`runs/${id2}/trace.json`));
      const slices = trace.traceEvents.filter((e: { ph: string }) => e.ph === 'X');
      expect(slices.map((e: { name: string; tid: number; cat: string; args: object }) => [e.name, e.tid, e.cat, e.args])).toEqual([
        ['burn', 1, 'cached,fresh', { outcome: 'fresh', cached: true, from_run: id }],
        ['light', 1, 'ran', { outcome: 'ran', cached: false, cpu_ms: rec2.stages.light.usage.cpuMs, peak_rss_bytes: rec2.stages.light.usage.peakRssBytes }],
      ]);
      expect(slices[1].dur).toBe((Date.parse(rec2.stages.light.endedAt) - Date.parse(rec2.stages.light.startedAt)) * 1000);
      expect(trace.traceEvents).toContainEqual({ ph: 'M', name: 'thread_name', pid: 1, tid: 1, args: { name: 'slot 1' } });
      expect(readFileSync(sys.path('tl.png')).subarray(1, 4).toString()).toBe('PNG');
      expect((await sys.run(['trace', 'nope'])).stderr).toBe("error: no run 'nope' in runs/ (a sweep's timeline is its trials': trace one of them)\n");
    } finally {
      sys.cleanup();
    }
  }, 120_000);
});
