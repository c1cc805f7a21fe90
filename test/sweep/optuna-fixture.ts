// A cheap objective for Optuna sweeps through the real CLI: `prep` (shared by every trial) then
// `fit`, which streams a per-epoch `loss` through its events file and ends with
// `final` = (x - 0.7)^2 + (y - 0.2)^2, whose optimum is known, and `far` = (x - 0.2)^2 + (y - 0.7)^2,
// which conflicts with it (their Pareto front is the segment between the two optima). Both count their executions in
// $COUNT_DIR (`fit` also its epochs, and a SIGTERM it received in `stopped`); `fit.sleep` ms per epoch gives a pruner time to act. `fit.mode: shifted` adds
// `fit.shift` to `final` (a param that only matters for one choice of another).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Rig } from '../e2e/rig.js';

export const QUAD = `name: quad
params:
  prep: { n: 3 }
  fit: { x: 0.5, y: 0.5, epochs: 6, sleep: 0, mode: plain, shift: 0 }
stages:
  prep:
    cmd: [node, prep.mjs]
    params: [prep]
    outs: [data/prep.txt]
  fit:
    cmd: [node, fit.mjs]
    deps: [data/prep.txt]
    params: [fit]
    outs: [models/fit.txt]
    metrics: [metrics/fit.json]
    stop_grace: 5s
`;

const PREP = `import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
appendFileSync(process.env.COUNT_DIR + '/prep', 'x');
mkdirSync('data', { recursive: true });
writeFileSync('data/prep.txt', 'n=' + JSON.parse(process.env.MASSFLOW_PARAMS).prep.n + '\\n');
`;

const FIT = `import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
const { x, y, epochs, sleep, mode, shift } = JSON.parse(process.env.MASSFLOW_PARAMS).fit;
appendFileSync(process.env.COUNT_DIR + '/fit', 'x');
// Stopped (pruned, cancelled): counted, so a test sees that the stage got the stop signal.
process.on('SIGTERM', () => { appendFileSync(process.env.COUNT_DIR + '/stopped', 'x'); process.exit(143); });
const final = (x - 0.7) ** 2 + (y - 0.2) ** 2 + (mode === 'shifted' ? shift : 0);
const far = (x - 0.2) ** 2 + (y - 0.7) ** 2;
for (let e = 0; e < epochs; e++) {
  appendFileSync(process.env.MASSFLOW_EVENTS, JSON.stringify({ type: 'metric', key: 'loss', value: final + 1 / (e + 1), step: e }) + '\\n');
  appendFileSync(process.env.COUNT_DIR + '/epochs', 'x');
  if (sleep) await new Promise((r) => setTimeout(r, sleep));
}
mkdirSync('models', { recursive: true });
mkdirSync('metrics', { recursive: true });
writeFileSync('models/fit.txt', 'x=' + x + ' y=' + y + '\\n');
writeFileSync('metrics/fit.json', JSON.stringify({ final, far }));
`;

export function optunaRig(experiments: Record<string, string>): Rig {
  const rig = Rig.create({ 'pipelines/quad.yaml': QUAD, 'prep.mjs': PREP, 'fit.mjs': FIT, 'count/.keep': '' });
  for (const [name, text] of Object.entries(experiments)) rig.write(`experiments/${name}`, text);
  return rig;
}

/**
 * Random search with seed 0 asks x = 0.7 (the optimum) first, then x = 3.0, whose curve lies far
 * above the first's: the median pruner stops it once past its warm-up step.
 */
export const pruneExperiment = (epochs: number, sleepMs: number) => experiment(`sampler: random
seed: 0
trials: 2
params:
  fit.x: { choice: [3.0, 0.7] }
prune: { pruner: median, metric: fit/loss, warmup_steps: 1, startup_trials: 1 }`, `overrides: { fit.epochs: ${epochs}, fit.sleep: ${sleepMs} }\nconcurrency: 1\n`);

export const experiment = (optuna: string, extra = '', objective = '{ metric: fit/final, direction: min }') => `pipeline: pipelines/quad.yaml
sweep:
  optuna:
${optuna.trim().split('\n').map((l) => '    ' + l).join('\n')}
objective: ${objective}
${extra}`;

/** Whether the cache holds an entry for this fingerprint (anything committed under it). */
export function cached(r: Rig, fingerprint: string): boolean {
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [e.name]));
  return walk(r.path('.massflow/cache')).some((f) => f === `${fingerprint.slice(2)}.json`);
}
