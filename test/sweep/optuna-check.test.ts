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

  it('pins the Optuna version scripts/optuna-venv.sh installs', () => {
    const script = readFileSync(new URL('../../scripts/optuna-venv.sh', import.meta.url), 'utf8');
    expect(/OPTUNA_VERSION="([^"]+)"/.exec(script)?.[1]).toBe(OPTUNA_VERSION);
  });
});
