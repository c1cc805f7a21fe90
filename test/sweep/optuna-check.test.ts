// A bad `sweep.optuna` is caught before anything runs, every mistake at once and each at its place
// in the file: inverted bounds, log over values <= 0, a step wider than its range, an option the
// sampler or pruner does not take, a pruning metric no targeted stage reports, and what an Optuna
// sweep needs from the rest of the file. Also: the script's pin and the code's are the same.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderDiagnostics } from '../../src/report/diagnostics.js';
import { noColors } from '../../src/report/format.js';
import { compileExperiment } from '../../src/sweep/experiment.js';
import { OPTUNA_VERSION } from '../../src/sweep/optuna/study-child.js';
import { QUAD } from './optuna-fixture.js';

const FILES: Record<string, string> = { 'pipelines/quad.yaml': QUAD };

function rendered(text: string): string {
  const r = compileExperiment({ file: 'experiments/e.yaml', text, readFile: (p) => FILES[p], fileExists: (p) => p in FILES });
  if (r.ok) return r.warnings.length ? renderDiagnostics(r.warnings, noColors).join('\n') : 'ok';
  return renderDiagnostics(r.diagnostics, noColors).join('\n');
}

describe('sweep.optuna validation', () => {
  it('locates every mistake in the search space, the options and the pruning metric', () => {
    expect(rendered(`pipeline: pipelines/quad.yaml
targets: [prep]
sweep:
  optuna:
    sampler: tpe
    sampler_options: { n_startup_trial: 3, multivariate: true }
    trials: 10
    params:
      fit.x: { uniform: [1, 0] }
      fit.y: { log-uniform: [0, 1] }
      fit.epochs: { integer: [1, 9], step: 20 }
      fit.sleep: { integer: [0, 8], log: true }
    prune: { pruner: median, metric: fit/loss, options: { warmup: 2 } }
objective: { metric: prep/n, direction: min }
`)).toBe(`experiments/e.yaml:6:24 error: sampler 'tpe' has no option 'n_startup_trial' (did you mean 'n_startup_trials'?)
  6 |     sampler_options: { n_startup_trial: 3, multivariate: true }
    |                        ~~~~~~~~~~~~~~~
experiments/e.yaml:9:25 error: uniform bounds need low < high, got [1, 0]
  9 |       fit.x: { uniform: [1, 0] }
    |                         ~~~~~~
experiments/e.yaml:10:29 error: log-uniform bounds must be > 0, got [0, 1]
  10 |       fit.y: { log-uniform: [0, 1] }
     |                             ~~~~~~
experiments/e.yaml:11:44 error: step 20 is wider than [1, 9]: only 1 could be suggested
  11 |       fit.epochs: { integer: [1, 9], step: 20 }
     |                                            ~~
experiments/e.yaml:12:29 error: a log integer needs low >= 1, got [0, 8]
  12 |       fit.sleep: { integer: [0, 8], log: true }
     |                             ~~~~~~
experiments/e.yaml:13:38 error: no targeted stage reports the pruning metric: stage 'fit' is neither a target nor needed by one
  13 |     prune: { pruner: median, metric: fit/loss, options: { warmup: 2 } }
     |                                      ~~~~~~~~
experiments/e.yaml:13:59 error: pruner 'median' has no option 'warmup' (it takes n_startup_trials, n_warmup_steps, interval_steps, n_min_trials)
  13 |     prune: { pruner: median, metric: fit/loss, options: { warmup: 2 } }
     |                                                           ~~~~~~
7 errors`);
  });

  it('needs an objective, takes no ablations, and knows its sampler names from the schema', () => {
    expect(rendered(`pipeline: pipelines/quad.yaml
sweep:
  optuna:
    trials: 4
    params: { fit.x: { uniform: [0, 1] } }
`)).toContain("experiments/e.yaml:3:3 error: an optuna sweep needs an `objective`: it is the value each trial tells the study");
    expect(rendered(`pipeline: pipelines/quad.yaml
sweep:
  optuna: { sampler: bayes, trials: 4, params: { fit.x: { uniform: [0, 1] } } }
objective: { metric: fit/final, direction: min }
`)).toMatch(/^experiments\/e.yaml:3:22 error: 'sweep.optuna.sampler': must be one of tpe, cmaes, random, gp, nsga2\n/);
    expect(rendered(`pipeline: pipelines/quad.yaml
sweep:
  optuna: { trials: 4, params: { fit.x: { uniform: [0, 1], step: 0.25 }, fit.epochs: { integer: [2, 8], step: 2 } }, prune: { pruner: hyperband, metric: fit/loss } }
objective: { metric: fit/final, direction: min }
`)).toBe('ok');
  });

  it('several objectives: a sampler that optimizes one, pruning, a repeated or unknown objective are located errors', () => {
    expect(rendered(`pipeline: pipelines/quad.yaml
sweep:
  optuna:
    sampler: cmaes
    trials: 10
    params:
      fit.x: { uniform: [0, 1] }
    prune: { pruner: median, metric: fit/loss }
objective:
  - { metric: fit/final, direction: min }
  - { metric: fit/far, direction: max }
  - { metric: fit/final, direction: max }
  - { metric: nope/x, direction: min }
`)).toBe(`experiments/e.yaml:4:14 error: sampler 'cmaes' optimizes one objective; this experiment has 4 (use tpe, random, gp, nsga2)
  4 |     sampler: cmaes
    |              ~~~~~
  experiments/e.yaml:9:1 note: the 4 objectives
    9 | objective:
      | ~~~~~~~~~
experiments/e.yaml:8:5 error: pruning needs a single objective: Optuna's pruners compare one value per step, and this experiment has 4
  8 |     prune: { pruner: median, metric: fit/loss }
    |     ~~~~~
  experiments/e.yaml:9:1 note: the 4 objectives
    9 | objective:
      | ~~~~~~~~~
experiments/e.yaml:12:15 error: objective 'fit/final' is listed twice
  12 |   - { metric: fit/final, direction: max }
     |               ~~~~~~~~~
experiments/e.yaml:13:15 error: the objective names stage 'nope', which pipelines/quad.yaml does not have (stages: prep, fit)
  13 |   - { metric: nope/x, direction: min }
     |               ~~~~~~
4 errors`);
    expect(rendered(`pipeline: pipelines/quad.yaml
sweep:
  optuna: { sampler: nsga2, trials: 8, params: { fit.x: { uniform: [0, 1] } } }
objective: [{ metric: fit/final, direction: min }, { metric: fit/far, direction: max }]
`)).toBe('ok');
    expect(rendered(`pipeline: pipelines/quad.yaml
sweep:
  optuna: { trials: 8, params: { fit.x: { uniform: [0, 1] } } }
objective: { metric: fit/final, direction: up }
`)).toBe(`experiments/e.yaml:4:44 error: 'objective.direction': must be min or max
  4 | objective: { metric: fit/final, direction: up }
    |                                            ~~
1 error`);
    expect(rendered(`pipeline: pipelines/quad.yaml
sweep:
  optuna: { trials: 8, params: { fit.x: { uniform: [0, 1] } } }
objective: [{ metric: fit/final, direction: min }, { metric: fit/far }]
`)).toMatch(/^experiments\/e\.yaml:4:52 error: 'objective\.1': missing required key 'direction'\n/);
  });

  it('a condition on an unknown param, a later one, a non-choice or a value it never takes is a located error', () => {
    expect(rendered(`pipeline: pipelines/quad.yaml
sweep:
  optuna:
    trials: 10
    params:
      fit.shift: { uniform: [0, 1], when: { fit.mode: shifted } }
      fit.mode: { choice: [plain, shifted] }
      fit.x: { uniform: [0, 1], when: { fit.mode: [plain, skewed], fit.z: 1 } }
      fit.y: { uniform: [0, 1], when: { fit.x: 0.5 } }
objective: { metric: fit/final, direction: min }
`)).toBe(`experiments/e.yaml:6:45 error: 'fit.shift' is conditional on 'fit.mode', which is declared after it: declare the param a condition reads first
  6 |       fit.shift: { uniform: [0, 1], when: { fit.mode: shifted } }
    |                                             ~~~~~~~~
experiments/e.yaml:8:59 error: 'fit.mode' never takes "skewed" (its choices: "plain", "shifted")
  8 |       fit.x: { uniform: [0, 1], when: { fit.mode: [plain, skewed], fit.z: 1 } }
    |                                                           ~~~~~~
experiments/e.yaml:8:68 error: 'fit.x' is conditional on 'fit.z', which is not a param of this search space (params before it: fit.shift, fit.mode)
  8 |       fit.x: { uniform: [0, 1], when: { fit.mode: [plain, skewed], fit.z: 1 } }
    |                                                                    ~~~~~
experiments/e.yaml:9:41 error: 'fit.y' is conditional on 'fit.x', which is not a choice: a condition compares a choice's value
  9 |       fit.y: { uniform: [0, 1], when: { fit.x: 0.5 } }
    |                                         ~~~~~
4 errors`);
    expect(rendered(`pipeline: pipelines/quad.yaml
sweep:
  optuna:
    trials: 10
    params:
      fit.mode: { choice: [plain, shifted] }
      fit.shift: { uniform: [0, 1], when: { fit.mode: shifted } }
objective: { metric: fit/final, direction: min }
`)).toBe('ok');
  });

  it('pins the Optuna version scripts/optuna-venv.sh installs', () => {
    const script = readFileSync(new URL('../../scripts/optuna-venv.sh', import.meta.url), 'utf8');
    expect(/OPTUNA_VERSION="([^"]+)"/.exec(script)?.[1]).toBe(OPTUNA_VERSION);
  });
});
