// Sweep benchmarks (figures, not pass/fail):
//  1. planning: 1000 trials x 10 folds (a 13-stage pipeline per trial) expanded, compiled,
//     fingerprinted, merged and looked up in the cache; budget 1 s.
//  2. running: a 100-trial grid over fit params on tiny command stages; the upstream stages must
//     execute once, and the runner's own time per trial (wall time minus the time spent inside
//     the executor, divided by the job slots) should stay under 50 ms.
//   node --import tsx bench/sweep/sweep.ts [--trials 100] [--plan-trials 1000] [--jobs 2]
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asRunId } from '../../src/core/brand.js';
import type { Executor } from '../../src/exec/executor.js';
import { LocalExecutor } from '../../src/exec/local.js';
import { openProject } from '../../src/project/open.js';
import { projectLayout } from '../../src/project/layout.js';
import { gitInfo } from '../../src/record/git-info.js';
import { fileExistsIn, loadExperiment } from '../../src/sweep/load.js';
import { planSweep } from '../../src/sweep/plan.js';
import { runSweep } from '../../src/sweep/run-sweep.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const TRIALS = arg('--trials', 100);
const PLAN_TRIALS = arg('--plan-trials', 1000);
const JOBS = arg('--jobs', 2);

const STEP = `
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
const [name, out, metrics] = process.argv.slice(2);
appendFileSync(process.env.COUNT_DIR + '/' + name, 'x');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, name + ' ' + process.env.MASSFLOW_PARAMS + '\\n');
if (metrics) { mkdirSync(dirname(metrics), { recursive: true }); writeFileSync(metrics, JSON.stringify({ loss: Math.abs(JSON.parse(process.env.MASSFLOW_PARAMS).fit?.lr - 0.05) })); }
`;

function project(name: string, pipeline: string, experiment: string): string {
  const dir = join(tmpdir(), `massflow-bench-sweep-${name}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'pipelines'), { recursive: true });
  mkdirSync(join(dir, 'experiments'), { recursive: true });
  mkdirSync(join(dir, 'count'), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'step.mjs'), STEP);
  writeFileSync(join(dir, 'pipelines/p.yaml'), pipeline);
  writeFileSync(join(dir, 'experiments/e.yaml'), experiment);
  return dir;
}

/** Sums the time stages spend inside the executor (child process start to exit). */
class TimedExecutor implements Executor {
  readonly name = 'local';
  busyMs = 0;
  constructor(private readonly inner: Executor) {}
  async run(...a: Parameters<Executor['run']>) {
    const t = performance.now();
    try { return await this.inner.run(...a); } finally { this.busyMs += performance.now() - t; }
  }
}

async function benchPlanning() {
  const stages = ['prep', 'feat', 'pre1', 'pre2'].map((s, i) => `  ${s}:
    cmd: [node, step.mjs, ${s}, data/${s}.txt]
    ${i ? `deps: [data/${['prep', 'feat', 'pre1', 'pre2'][i - 1]}.txt]` : ''}
    params: [${s === 'prep' ? 'data' : 'feat'}]
    outs: [data/${s}.txt]`).join('\n');
  const pipeline = `name: plan
params:
  data: { n: 10 }
  feat: { k: 3 }
  fit: { lr: 0.01, batch: 32, epochs: 5 }
  cv: { folds: 10 }
stages:
${stages}
  fit:
    foreach: { fold: "\${range(cv.folds)}" }
    cmd: [node, step.mjs, fit, "models/fold-\${fold}.txt"]
    deps: [data/pre2.txt]
    params: [fit, cv]
    outs: ["models/fold-\${fold}.txt"]
  cv:
    cmd: [node, step.mjs, cv, reports/cv.txt, metrics/cv.json]
    deps: [models]
    params: [cv]
    outs: [reports/cv.txt]
    metrics: [metrics/cv.json]
`;
  const experiment = `pipeline: pipelines/p.yaml
sweep:
  random:
    seed: 1
    trials: ${PLAN_TRIALS}
    params:
      fit.lr: { log-uniform: [1.0e-5, 1.0e-1] }
      fit.batch: { choice: [16, 32, 64, 128] }
      fit.epochs: { integer: [5, 50] }
objective: { metric: cv/loss, direction: min }
`;
  const dir = project('plan', pipeline, experiment);
  const layout = projectLayout(dir);
  const times: number[] = [];
  let units = 0, instances = 0;
  const cpus: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const loaded = loadExperiment(dir, 'experiments/e.yaml', []);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
    const planned = await planSweep(openProject(layout), loaded.experiment, asRunId('20260101-000000-000000'), { force: false, fileExists: fileExistsIn(dir) });
    if (!planned.ok) throw new Error(JSON.stringify(planned.diagnostics));
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
    units = planned.plan.units.length;
    instances = planned.plan.trials.reduce((n, t) => n + t.pipeline.stages.length, 0);
  }
  times.sort((a, b) => a - b);
  cpus.sort((a, b) => a - b);
  console.log(`planning: ${PLAN_TRIALS} trials x 10 folds = ${instances} stage instances -> ${units} distinct units`);
  console.log(`  validate + expand + compile + fingerprint + merge + cache lookup: median ${times[1]!.toFixed(0)} ms (best ${times[0]!.toFixed(0)}, worst ${times[2]!.toFixed(0)}); CPU median ${cpus[1]!.toFixed(0)} ms; budget 1000 ms`);
  rmSync(dir, { recursive: true, force: true });
}

async function benchRunning() {
  const lrs = Array.from({ length: TRIALS }, (_, i) => Number((0.001 * (i + 1)).toFixed(3)));
  const pipeline = `name: run
params:
  data: { n: 10 }
  feat: { k: 3 }
  fit: { lr: 0.01 }
stages:
  prep:
    cmd: [node, step.mjs, prep, data/prep.txt]
    params: [data]
    outs: [data/prep.txt]
  feat:
    cmd: [node, step.mjs, feat, data/feat.txt]
    deps: [data/prep.txt]
    params: [feat]
    outs: [data/feat.txt]
  fit:
    cmd: [node, step.mjs, fit, models/fit.txt, metrics/fit.json]
    deps: [data/feat.txt]
    params: [fit]
    outs: [models/fit.txt]
    metrics: [metrics/fit.json]
`;
  const experiment = `pipeline: pipelines/p.yaml
sweep:
  grid:
    fit.lr: [${lrs.join(', ')}]
objective: { metric: fit/loss, direction: min }
`;
  const dir = project('run', pipeline, experiment);
  process.env['COUNT_DIR'] = join(dir, 'count');
  const layout = projectLayout(dir);
  const loaded = loadExperiment(dir, 'experiments/e.yaml', []);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  const project_ = openProject(layout);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const planned = await planSweep(project_, loaded.experiment, asRunId('20260101-000000-aaaaaa'), { force: false, fileExists: fileExistsIn(dir) });
  if (!planned.ok) throw new Error('plan failed');
  const executor = new TimedExecutor(new LocalExecutor());
  const record = await runSweep(project_, planned.plan, {
    jobs: JOBS, gpus: 0, keepGoing: false, force: false, concurrency: undefined, argv: [], executor, git: gitInfo(dir),
  }, () => {}, undefined, new AbortController().signal);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const counts = Object.fromEntries(readdirSync(join(dir, 'count')).map((f) => [f, readFileSync(join(dir, 'count', f), 'utf8').length]));
  const overhead = (wall - executor.busyMs / JOBS) / TRIALS;
  console.log(`running: ${TRIALS} trials, status ${record.status}, best ${record.best?.trial} (fit.lr ${JSON.stringify(record.trials.find((t) => t.name === record.best?.trial)?.point)})`);
  console.log(`  executions: prep ${counts['prep']}, feat ${counts['feat']}, fit ${counts['fit']} (want 1, 1, ${TRIALS})`);
  console.log(`  wall ${wall.toFixed(0)} ms, inside the executor ${executor.busyMs.toFixed(0)} ms over ${JOBS} job slots`);
  console.log(`  runner overhead per trial: ${overhead.toFixed(1)} ms wall (budget 50 ms); the runner process's own CPU: ${((cpu.user + cpu.system) / 1000 / TRIALS).toFixed(1)} ms per trial`);

  // The same sweep again: everything is cached; the cost is the runner's alone.
  const t1 = performance.now();
  const again = await planSweep(project_, loaded.experiment, asRunId('20260101-000001-bbbbbb'), { force: false, fileExists: fileExistsIn(dir) });
  if (!again.ok) throw new Error('plan failed');
  await runSweep(project_, again.plan, {
    jobs: JOBS, gpus: 0, keepGoing: false, force: false, concurrency: undefined, argv: [], executor: new LocalExecutor(), git: gitInfo(dir),
  }, () => {}, undefined, new AbortController().signal);
  console.log(`  all cached: ${(performance.now() - t1).toFixed(0)} ms for ${TRIALS} trials (${((performance.now() - t1) / TRIALS).toFixed(1)} ms per trial)`);
  rmSync(dir, { recursive: true, force: true });
}

console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores (wall times grow with it; CPU times less so)`);
await benchPlanning();
await benchRunning();
