// Per-trial overhead of an Optuna sweep: massflow (a `cmd:` stage per trial, the study in a Python
// child over the line protocol, fingerprint, record and cache per trial) against Hydra's Optuna
// sweeper (hydra-core 1.3.8, hydra-optuna-sweeper 1.3.0: the objective is a Python function called
// in-process, a job directory and config per trial), on the same trivial objective (x - 0.7)^2,
// random sampler, one trial at a time, measured in the same run. Per-trial time is
// (wall(N trials) - wall(1 trial)) / (N - 1), so each tool's start-up cost is left out. massflow's
// own random search on the same stage is the third figure: what the study adds to its trials. On a
// loaded machine those wall-clock differences drift by hundreds of ms between runs, so the study's
// two parts are also timed alone, in-process: the ask and tell round trips on an SQLite study, and
// planning a trial into a sweep (compile, fingerprint, cache lookup) on the paper pipeline.
//   node --import tsx bench/sweep/optuna-overhead.ts [--trials 20]
// Needs .venv-optuna (scripts/optuna-venv.sh) and a Hydra venv: HYDRA_VENV (default .bench/venv-hydra,
// `python3 -m venv .bench/venv-hydra && .bench/venv-hydra/bin/pip install hydra-core==1.3.8
// hydra-optuna-sweeper==1.3.0`; the sweeper pins optuna < 3, so it cannot share .venv-optuna).
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asRunId } from '../../src/core/brand.js';
import { backendLabel, detectBackend } from '../../src/project/backend-id.js';
import { projectLayout } from '../../src/project/layout.js';
import { openProject } from '../../src/project/open.js';
import { fileExistsIn, loadExperiment } from '../../src/sweep/load.js';
import { planNextTrial, SweepFingerprinter, type Unit } from '../../src/sweep/plan.js';
import { openStudy, optunaPython } from '../../src/sweep/optuna/study-child.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const args = process.argv.slice(2);
const TRIALS = args.includes('--trials') ? Number(args[args.indexOf('--trials') + 1]) : 20;
const HYDRA_VENV = process.env['HYDRA_VENV'] ?? join(REPO, '.bench/venv-hydra');

const PIPELINE = `name: obj
params:
  fit: { x: 0.5 }
stages:
  fit:
    cmd: [node, obj.mjs]
    params: [fit]
    outs: [metrics/obj.json]
    metrics: [metrics/obj.json]
`;
const OBJ = `import { mkdirSync, writeFileSync } from 'node:fs';
const { x } = JSON.parse(process.env.MASSFLOW_PARAMS).fit;
mkdirSync('metrics', { recursive: true });
writeFileSync('metrics/obj.json', JSON.stringify({ loss: (x - 0.7) ** 2 }));
`;
const experiment = (optuna: boolean, trials: number) => `pipeline: pipelines/obj.yaml
sweep:
  ${optuna ? 'optuna' : 'random'}: { ${optuna ? 'sampler: random, ' : ''}seed: 1, trials: ${trials}, params: { fit.x: { uniform: [0, 1] } } }
objective: { metric: fit/loss, direction: min }
concurrency: 1
`;

const HYDRA_APP = `import hydra
from omegaconf import DictConfig

@hydra.main(version_base=None, config_path="conf", config_name="config")
def main(cfg: DictConfig) -> float:
    return (cfg.x - 0.7) ** 2

if __name__ == "__main__":
    main()
`;
const hydraConfig = (trials: number) => `defaults:
  - override hydra/sweeper: optuna
  - override hydra/sweeper/sampler: random
x: 0.5
hydra:
  sweeper:
    direction: minimize
    n_trials: ${trials}
    n_jobs: 1
    sampler: { seed: 1 }
    params:
      x: interval(0, 1)
`;

function dir(name: string): string {
  const d = join(tmpdir(), `massflow-bench-optuna-${name}`);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  return d;
}

function timed(cmd: string, argv: string[], cwd: string, env: Record<string, string> = {}): number {
  const t = performance.now();
  const r = spawnSync(cmd, argv, { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout).slice(-2000)}`);
  return performance.now() - t;
}

function massflow(trials: number, optuna = true): number {
  const d = dir(`massflow-${optuna}-${trials}`);
  mkdirSync(join(d, 'pipelines'));
  mkdirSync(join(d, 'experiments'));
  symlinkSync(join(REPO, 'node_modules'), join(d, 'node_modules'));
  writeFileSync(join(d, 'obj.mjs'), OBJ);
  writeFileSync(join(d, 'pipelines/obj.yaml'), PIPELINE);
  writeFileSync(join(d, 'experiments/e.yaml'), experiment(optuna, trials));
  return timed(process.execPath, [join(REPO, 'bin/massflow.js'), 'sweep', 'experiments/e.yaml', '-j', '1', '--tracking-uri', 'none'], d, { MASSFLOW_BACKEND: 'cpu' });
}

function hydra(trials: number): number {
  const d = dir(`hydra-${trials}`);
  mkdirSync(join(d, 'conf'));
  writeFileSync(join(d, 'app.py'), HYDRA_APP);
  writeFileSync(join(d, 'conf/config.yaml'), hydraConfig(trials));
  return timed(join(HYDRA_VENV, 'bin/python'), ['app.py', '--multirun'], d);
}

const perTrial = (run: (n: number) => number) => {
  const one = run(1);
  const many = run(TRIALS);
  return { one, many, per: (many - one) / (TRIALS - 1) };
};

console.log(`load average before: ${loadavg().map((x) => x.toFixed(1)).join(' ')}; ${TRIALS} trials, one at a time`);
const m = perTrial(massflow);
const h = perTrial(hydra);
const r = perTrial((n) => massflow(n, false));
const fmt = (r: { one: number; many: number; per: number }) => `1 trial ${(r.one / 1000).toFixed(1)} s, ${TRIALS} trials ${(r.many / 1000).toFixed(1)} s, per trial ${r.per.toFixed(0)} ms`;
console.log(`massflow + Optuna (cmd stage per trial): ${fmt(m)}`);
console.log(`Hydra Optuna sweeper (in-process call):  ${fmt(h)}`);
console.log(`massflow random search (no study):       ${fmt(r)}`);
console.log(`ratio massflow + Optuna / Hydra per trial: ${(m.per / h.per).toFixed(2)}; the study's share of massflow's: ${(m.per - r.per).toFixed(0)} ms`);
const parts = await studyParts();
console.log(`the study's parts alone: ask ${parts.ask.toFixed(0)} ms + tell ${parts.tell.toFixed(0)} ms per trial (SQLite, ${TRIALS} trials); planning a paper-pipeline trial ${parts.plan.toFixed(1)} ms`);
console.log(`load average after: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);

/** The ask and tell round trips on an SQLite study, and planning a trial of the paper pipeline, each per trial. */
async function studyParts() {
  const d = dir('parts');
  const python = optunaPython(REPO);
  if (!python.ok) throw new Error(python.error);
  const opened = await openStudy(python.value, { storage: `sqlite:///${join(d, 'parts.db')}`, study: 'parts', directions: ['minimize'], sampler: { name: 'random', seed: 1 }, pruner: null, space: { x: { uniform: [0, 1] } }, trials: TRIALS }, d);
  if (!opened.ok) throw new Error(opened.error.message);
  let ask = 0, tell = 0;
  for (let t0 = performance.now(), t = await opened.value.ask(); t; t0 = performance.now(), t = await opened.value.ask()) {
    const t1 = performance.now();
    await opened.value.tell(t.number, 'complete', [(Number(t.params['x']) - 0.7) ** 2]);
    ask += t1 - t0;
    tell += performance.now() - t1;
  }
  await opened.value.close();
  // Planning: trials of a one-param Optuna sweep on the repository's paper pipeline, as the sweep asks them.
  writeFileSync(join(d, 'e.yaml'), `pipeline: pipelines/paper.yaml
sweep:
  optuna: { trials: ${TRIALS}, params: { fit.lr: { log-uniform: [1.0e-4, 1.0e-3] } } }
targets: [cross-validate]
objective: { metric: cross-validate/mae_mean, direction: min }
`);
  const loaded = loadExperiment(REPO, relative(REPO, join(d, 'e.yaml')), []);
  if (!loaded.ok) throw new Error(loaded.diagnostics.map((x) => x.message).join('; '));
  const project = openProject({ ...projectLayout(REPO), massflowDir: d, cacheDir: join(d, 'cache'), statDir: join(d, 'stat'), fingerprintsDir: join(d, 'fp'), locksDir: join(d, 'locks'), runsDir: join(d, 'runs') });
  const units = new Map<string, Unit>();
  const fingerprinter = new SweepFingerprinter(project, backendLabel(detectBackend()));
  const t0 = performance.now();
  for (let i = 0; i < TRIALS; i++) {
    const point = { 'fit.lr': 1e-4 * (1 + i / TRIALS) };
    const r = await planNextTrial(project, loaded.experiment, asRunId('bench'), { index: i, name: `t${i}`, ablation: undefined, point, params: point, switches: {} }, units, { force: false, fileExists: fileExistsIn(REPO) }, fingerprinter);
    if (!r.ok) throw new Error(r.diagnostics.map((x) => x.message).join('; '));
  }
  return { ask: ask / TRIALS, tell: tell / TRIALS, plan: (performance.now() - t0) / TRIALS };
}
