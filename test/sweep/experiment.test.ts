// Experiment files are validated like pipelines: every mistake at once, each located in the file,
// rendered exactly as the CLI prints it. Also: the published JSON Schema is the one validation uses.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseOverride } from '../../src/pipeline/params.js';
import { renderDiagnostics } from '../../src/report/diagnostics.js';
import { noColors } from '../../src/report/format.js';
import { compileExperiment, type ExperimentResult } from '../../src/sweep/experiment.js';
import { experimentJsonSchema } from '../../src/sweep/schema.js';
import { Rig } from '../e2e/rig.js';

const PIPELINE = `name: p
params:
  data: { n: 10 }
  fit: { lr: 0.01, batch: 32, opt: adam }
  cv: { folds: 4 }
  unused: { x: 1 }
stages:
  prep:
    cmd: [node, prep.mjs]
    params: [data]
    outs: [data/prep.txt]
  fit:
    foreach: { fold: "\${range(cv.folds)}" }
    run: stages/fit.ts
    deps: [data/prep.txt]
    params: [fit]
    outs: ["models/fold-\${fold}.json"]
  score:
    cmd: [node, score.mjs]
    deps: [models]
    outs: [metrics/score.json]
`;
const FILES: Record<string, string> = { 'pipelines/p.yaml': PIPELINE, 'stages/fit.ts': '', 'stages/untrained.ts': '' };

function compile(text: string, cli: string[] = []): ExperimentResult {
  return compileExperiment({
    file: 'experiments/e.yaml',
    text,
    readFile: (p) => FILES[p],
    fileExists: (p) => p in FILES,
    cliOverrides: cli.map((c) => { const r = parseOverride(c); if (!r.ok) throw new Error(r.message); return r.override; }),
  });
}

const rendered = (r: ExperimentResult) => renderDiagnostics(r.ok ? r.warnings : r.diagnostics, noColors, r.ok ? [] : r.skipped).join('\n');

describe('experiment validation', () => {
  it('accepts a valid experiment and applies the base overrides to every trial', () => {
    const r = compile(`pipeline: pipelines/p.yaml
overrides: { fit.batch: 64 }
sweep:
  grid: { fit.lr: [0.1, 0.01] }
objective: { metric: score/mae, direction: min }
`);
    expect(r.ok && r.warnings).toEqual([]);
    if (!r.ok) return;
    expect(r.experiment.name).toBe('e');
    expect(r.experiment.base.params['fit']).toEqual({ lr: 0.01, batch: 64, opt: 'adam' });
    expect(r.experiment.trials.map((t) => t.params)).toEqual([{ 'fit.lr': 0.1 }, { 'fit.lr': 0.01 }]);
    // cv.folds shapes the foreach: a trial changing it must be compiled from its YAML.
    expect(r.experiment.interpolated).toContainEqual(['cv', 'folds']);
  });

  it('reports every mistake at once, each at its place in the file', () => {
    const r = compile(`pipeline: pipelines/p.yaml
overrides: { fit.lrr: 0.1 }
sweep:
  grid: { fit.batch: [16, "big"] }
  random: { seed: 1, trials: 3, params: { fit.lr: { log-uniform: [0, 1] }, fit.opt: { uniform: [0, 1] } } }
ablations:
  no-pretrain:
    stages: { pretrain: { run: stages/none.ts } }
  bad-module:
    stages: { fit: { run: stages/missing.ts } }
objective: { metric: report/mae, direction: min }
`);
    expect(r.ok).toBe(false);
    expect(rendered(r)).toBe(`experiments/e.yaml:2:14 error: unknown param 'fit.lrr' in pipelines/p.yaml (did you mean 'fit.lr'?)
  2 | overrides: { fit.lrr: 0.1 }
    |              ~~~~~~~
experiments/e.yaml:3:1 error: a sweep is one of grid, random, list or optuna, not grid and random
  3 | sweep:
    | ~~~~~
experiments/e.yaml:4:27 error: 'fit.batch' is a number in pipelines/p.yaml, got a string ("big")
  4 |   grid: { fit.batch: [16, "big"] }
    |                           ~~~~~
experiments/e.yaml:5:66 error: log-uniform bounds must be > 0, got [0, 1]
  5 |   random: { seed: 1, trials: 3, params: { fit.lr: { log-uniform: [0, 1] }, fit.opt: { uniform: [0, 1] } } }
    |                                                                  ~~~~~~
experiments/e.yaml:5:96 error: 'fit.opt' is a string in pipelines/p.yaml; uniform draws numbers (use choice)
  5 |   random: { seed: 1, trials: 3, params: { fit.lr: { log-uniform: [0, 1] }, fit.opt: { uniform: [0, 1] } } }
    |                                                                                                ~~~~~~
experiments/e.yaml:8:15 error: unknown stage 'pretrain' in pipelines/p.yaml (stages: prep, fit, score)
  8 |     stages: { pretrain: { run: stages/none.ts } }
    |               ~~~~~~~~
experiments/e.yaml:10:27 error: stage module 'stages/missing.ts' does not exist
  10 |     stages: { fit: { run: stages/missing.ts } }
     |                           ~~~~~~~~~~~~~~~~~
experiments/e.yaml:11:22 error: the objective names stage 'report', which pipelines/p.yaml does not have (stages: prep, fit, score)
  11 | objective: { metric: report/mae, direction: min }
     |                      ~~~~~~~~~~
8 errors`);
  });

  it('locates schema errors (unknown keys, wrong types, bad distributions) like pipeline files', () => {
    const r = compile(`pipeline: pipelines/p.yaml
sweeps: {}
sweep:
  random: { seed: 1, trials: 0, params: { fit.lr: { normal: [0, 1] } } }
concurrency: two
`);
    expect(r.ok).toBe(false);
    const text = rendered(r);
    expect(text).toContain("experiments/e.yaml:2:1 error: unknown key 'sweeps'");
    expect(text).toContain("experiments/e.yaml:4:30 error: 'sweep.random.trials': expected integer to be greater or equal to 1");
    expect(text).toMatch(/experiments\/e\.yaml:4:51 error: 'sweep\.random\.params\.fit\.lr': /);
    expect(text).toMatch(/experiments\/e\.yaml:5:14 error: 'concurrency': expected integer/);
  });

  it('errors in the pipeline itself are reported with the pipeline file', () => {
    FILES['pipelines/broken.yaml'] = 'name: b\nstages:\n  a:\n    cmd: [x]\n    params: [nope]\n';
    const r = compile('pipeline: pipelines/broken.yaml\n');
    expect(rendered(r)).toBe(`pipelines/broken.yaml:5:14 error: unknown param 'nope' in stage 'a'
  5 |     params: [nope]
    |              ~~~~
1 error; not checked until fixed: the experiment against its pipeline`);
    expect(rendered(compile('pipeline: pipelines/none.yaml\n'))).toContain("experiments/e.yaml:1:11 error: cannot read pipeline file 'pipelines/none.yaml'");
    expect(rendered(compile('pipeline: ../outside.yaml\n'))).toContain("error: pipeline path '../outside.yaml' must be relative and stay inside the project");
  });

  it('warns when a varied param is read by no stage, and refuses -p on a swept param', () => {
    const r = compile('pipeline: pipelines/p.yaml\nsweep:\n  list: [{ unused.x: 2 }, { cv.folds: 5 }]\n');
    expect(r.ok).toBe(true);
    expect(rendered(r)).toBe(`experiments/e.yaml:3:12 warning: no stage reads 'unused.x': trials that differ only in it compute the same thing
  3 |   list: [{ unused.x: 2 }, { cv.folds: 5 }]
    |            ~~~~~~~~`);
    const clash = compile('pipeline: pipelines/p.yaml\nsweep: { grid: { fit.lr: [1, 2] } }\n', ['fit.lr=3']);
    expect(clash.ok).toBe(false);
    expect(rendered(clash)).toBe("error: -p fit.lr=3: 'fit.lr' is varied by the experiment (the sweep); change it in experiments/e.yaml\n1 error");
    const fine = compile('pipeline: pipelines/p.yaml\nsweep: { grid: { fit.lr: [1, 2] } }\n', ['fit.batch=8']);
    expect(fine.ok && fine.experiment.base.params['fit']).toEqual({ lr: 0.01, batch: 8, opt: 'adam' });
  });
});

describe('published experiment JSON Schema', () => {
  it('equals the schema validation runs on', () => {
    const published = readFileSync(new URL('../../schema/experiment.schema.json', import.meta.url), 'utf8');
    expect(published).toBe(experimentJsonSchema());
  });

  it('is what `massflow schema experiment` prints (npm run schema writes it from there)', async () => {
    const rig = Rig.create({});
    try {
      const r = await rig.run(['schema', 'experiment']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(experimentJsonSchema());
      const bad = await rig.run(['schema', 'experiments']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("error: command-argument value 'experiments' is invalid for argument 'kind'. Allowed choices are pipeline, experiment.");
    } finally { rig.cleanup(); }
  });
});
