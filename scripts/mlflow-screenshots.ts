// Makes the MLflow UI screenshots docs/tracking.md shows, so they can be remade when the UI changes:
// a throwaway project runs a small ablation (two learning rates, two folds, per-epoch metrics, a
// source catalogue) against a project-local MLflow server started with `massflow mlflow up`, then
// headless Chromium (MASSFLOW_CHROMIUM, else chromium on PATH) photographs the runs table, the
// top-level run's page, a stage's page (its system/ metrics), the run's timeline and the compare view.
//
//   npm run build && npx tsx scripts/mlflow-screenshots.ts [OUT_DIR]    (default docs/images)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findChromium } from '../test/track/helpers/chromium.js';
import { freePort } from '../test/track/helpers/server.js';
import { experimentUrl } from '../src/track/index.js';

const ML = 'workflowType=machine_learning';
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(REPO, 'docs/images'));
const chromium = findChromium();
if (!chromium) {
  console.error('no chromium on PATH (nor MASSFLOW_CHROMIUM): apt-get install chromium');
  process.exit(1);
}

const define = pathToFileURL(join(REPO, 'src/stage/define.ts')).href;
const files: Record<string, string> = {
  'data/catalogue.csv': 'id,z,richness\n1,0.21,34\n2,0.35,51\n3,0.12,18\n',
  'pipelines/ablation.yaml': `
name: ablation
description: Learning-rate ablation of the mass regressor on two folds.
params:
  train: { lr: 0.01, epochs: 12 }
summary: [report/mae_mean]
stages:
  train:
    foreach: { fold: "\${range(2)}" }
    run: stages/train.ts
    deps: [data/catalogue.csv]
    params: [train]
    outs: ["models/fold\${fold}.txt"]
  report: { run: stages/report.ts, deps: [models/fold0.txt, models/fold1.txt], params: [train], outs: [report.txt] }
`,
  'stages/train.ts': `
import { writeFileSync } from 'node:fs';
import { defineStage } from '${define}';
export default defineStage({ async run(ctx) {
  const { lr, epochs } = ctx.params.train;
  for (let e = 0; e < epochs; e++) {
    ctx.metric('train_loss', 1 / (1 + e * lr * 40) + Number(ctx.vars.fold) * 0.01, e);
    ctx.metric('val_mae', 0.3 / (1 + e * lr * 25) + 0.02, e);
    await new Promise((r) => setTimeout(r, 60));
  }
  writeFileSync(ctx.outDir, String(lr));
} });
`,
  'stages/report.ts': `
import { writeFileSync } from 'node:fs';
import { defineStage } from '${define}';
export default defineStage({ async run(ctx) {
  const lr = ctx.params.train.lr;
  ctx.metric('mae_mean', Math.round((0.3 / (1 + 11 * lr * 25) + 0.02) * 1e4) / 1e4);
  ctx.metric('mae_std', 0.004);
  writeFileSync(ctx.outDir, 'ok');
} });
`,
};

const project = mkdtempSync(join(tmpdir(), 'massflow-shots-'));
const massflow = (...args: string[]) => execFileSync(process.execPath, [join(REPO, 'bin/massflow.js'), ...args], { cwd: project, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
try {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(project, p)), { recursive: true });
    writeFileSync(join(project, p), text);
  }
  execFileSync('git', ['init', '-q'], { cwd: project });
  const port = await freePort();
  massflow('mlflow', 'up', '--port', String(port));
  const url = `http://127.0.0.1:${port}`;
  for (const lr of ['0.01', '0.03']) massflow('run', 'pipelines/ablation.yaml', '-p', `train.lr=${lr}`, '--tracking-uri', url);

  const api = async <T>(path: string, body: unknown): Promise<T> => {
    const r = await fetch(`${url}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await r.json()) as T;
  };
  const exp = (await (await fetch(`${url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=ablation`)).json() as { experiment: { experiment_id: string } }).experiment.experiment_id;
  type Found = { runs: { info: { run_id: string }; data: { tags: { key: string; value: string }[] } }[] };
  const runs = (await api<Found>('runs/search', { experiment_ids: [exp], max_results: 100 })).runs;
  const keyOf = (r: Found['runs'][number]) => r.data.tags.find((t) => t.key === 'massflow.key')?.value;
  const roots = runs.filter((r) => keyOf(r) === 'root').map((r) => r.info.run_id);
  const fold = runs.find((r) => keyOf(r) === 'stage:train@fold=0')!.info.run_id;

  const shots: [string, string][] = [
    ['mlflow-runs-table.png', experimentUrl(url, exp)],
    // Every page says which view it is for: MLflow 3's global GenAI / Model training switch starts on GenAI.
    ['mlflow-run-page.png', `${url}/#/experiments/${exp}/runs/${roots[0]}?${ML}`],
    // A stage's own page: its metrics, the system/ ones included, and the data it read. (Its System
    // metrics tab draws charts that do not finish under headless Chromium's virtual time.)
    ['mlflow-stage-run.png', `${url}/#/experiments/${exp}/runs/${fold}?${ML}`],
    // The top-level run's timeline.svg, previewed in its Artifacts tab.
    ['mlflow-timeline.png', `${url}/#/experiments/${exp}/runs/${roots[0]}/artifacts/timeline.svg?${ML}`],
    ['mlflow-compare.png', `${url}/#/compare-runs?runs=${encodeURIComponent(JSON.stringify(roots))}&experiments=${encodeURIComponent(JSON.stringify([exp]))}&${ML}`],
  ];
  mkdirSync(out, { recursive: true });
  for (const [name, page] of shots) {
    const profile = mkdtempSync(join(tmpdir(), 'massflow-chromium-'));
    execFileSync(chromium, [
      '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--hide-scrollbars', `--user-data-dir=${profile}`,
      '--window-size=1600,1000', '--virtual-time-budget=90000', `--screenshot=${join(out, name)}`, page,
    ], { stdio: 'ignore', timeout: 120_000 });
    rmSync(profile, { recursive: true, force: true });
    console.log(`${join(out, name)}  ${page}`);
  }
} finally {
  try { massflow('mlflow', 'down'); } catch { /* not started */ }
  rmSync(project, { recursive: true, force: true });
}
