// Planning a sweep: each trial's pipeline (derived from the base when only param values change,
// which must equal a compile from YAML), fingerprints merged into one DAG where a stage shared by
// several trials is one unit owned by the first, `cache: false` never shared, stage switches
// compiled into the trial's spec snapshot, and the dry-run listing.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asRunId } from '../../src/core/brand.js';
import { openProject } from '../../src/project/open.js';
import { projectLayout } from '../../src/project/layout.js';
import { compilePipeline } from '../../src/pipeline/compile.js';
import { dryRunLines } from '../../src/sweep/dry-run.js';
import { fileExistsIn, loadExperiment } from '../../src/sweep/load.js';
import { planNextTrial, planSweep, SweepFingerprinter, type SweepPlan, type Unit } from '../../src/sweep/plan.js';
import { backendLabel } from '../../src/project/backend-id.js';
import { compileTrial, trialOverrides } from '../../src/sweep/trial-pipelines.js';

const PIPELINE = `name: p
params:
  data: { n: 10 }
  fit: { lr: 0.01, batch: 32 }
  cv: { folds: 3 }
stages:
  prep:
    cmd: [node, step.mjs, prep]
    params: [data]
    outs: [data/prep.txt]
  fetch:
    cmd: [node, step.mjs, fetch]
    outs: [data/fetched.txt]
    cache: false
  fit:
    foreach: { fold: "\${range(cv.folds)}" }
    cmd: [node, step.mjs, "fit \${fold}"]
    deps: [data/prep.txt, data/fetched.txt]
    params: [fit, cv]
    outs: ["models/fold-\${fold}.txt"]
  score:
    run: stages/score.ts
    deps: [models]
    outs: [metrics/score.json]
`;

let dir: string;
const write = (p: string, text: string) => { mkdirSync(dirname(join(dir, p)), { recursive: true }); writeFileSync(join(dir, p), text); };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'massflow-sweep-plan-'));
  write('pipelines/p.yaml', PIPELINE);
  write('step.mjs', '// a command stage');
  write('stages/score.ts', 'export default {};\n');
  write('stages/score-other.ts', 'export default { other: true };\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function plan(experiment: string): Promise<SweepPlan> {
  write('experiments/e.yaml', experiment);
  const loaded = loadExperiment(dir, 'experiments/e.yaml', []);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  const r = await planSweep(openProject(projectLayout(dir)), loaded.experiment, asRunId('20260101-000000-abcdef'), { force: false, fileExists: fileExistsIn(dir) });
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return r.plan;
}

describe('trial pipelines', () => {
  it('a trial derived from the base pipeline equals one compiled from its YAML', async () => {
    const p = await plan('pipeline: pipelines/p.yaml\noverrides: { data.n: 20 }\nsweep: { grid: { fit.lr: [0.1, 0.2], fit.batch: [8, 16] } }\n');
    const exp = p.experiment;
    for (const t of exp.trials) {
      const fast = compileTrial(exp, t, fileExistsIn(dir));
      const full = compilePipeline({ file: exp.pipelineFile, text: exp.pipelineText, overrides: [...exp.baseOverrides, ...trialOverrides(t)], fileExists: fileExistsIn(dir) });
      expect(fast.ok).toBe(true);
      if (fast.ok) expect(fast.value.pipeline).toEqual(full.pipeline);
    }
    expect(p.trials[3]!.overrides).toEqual(['data.n=20', 'fit.lr=0.2', 'fit.batch=16']);
  });

  it('a param that shapes the pipeline (a foreach range) gives each trial its own stages', async () => {
    const p = await plan('pipeline: pipelines/p.yaml\nsweep: { list: [{ cv.folds: 2 }, { cv.folds: 4 }] }\n');
    expect(p.trials.map((t) => t.pipeline.stages.filter((s) => s.name === 'fit').length)).toEqual([2, 4]);
  });

  it('a stage switch is written into the trial\'s spec snapshot', async () => {
    const p = await plan('pipeline: pipelines/p.yaml\nablations:\n  other-score:\n    stages: { score: { run: stages/score-other.ts, env: { MODE: fast } } }\n');
    const [base, other] = p.trials;
    expect(base!.pipeline.stages.find((s) => s.id === 'score')!.impl).toEqual({ kind: 'ts', module: 'stages/score.ts' });
    const switched = other!.pipeline.stages.find((s) => s.id === 'score')!;
    expect(switched.impl).toEqual({ kind: 'ts', module: 'stages/score-other.ts' });
    expect(switched.env).toEqual({ MODE: 'fast' });
    expect(other!.pipeline.specText).toContain('run: stages/score-other.ts');
    expect(other!.pipeline.specText).toContain("variant 'other-score' of this pipeline");
    // Recompiling the snapshot (what rerun does) gives the same stage.
    const again = compilePipeline({ file: 'pipelines/p.yaml', text: other!.pipeline.specText, fileExists: fileExistsIn(dir) });
    expect(again.pipeline!.stages.find((s) => s.id === 'score')!.impl).toEqual(switched.impl);
    // Only the switched stage differs: everything upstream of it is shared.
    const owner = (id: string) => other!.unitOf.get(id as never)!.owner.trial.name;
    expect(['prep', 'fit@fold=0', 'score'].map(owner)).toEqual(['baseline', 'baseline', 'other-score']);
  });
});

describe('merged DAG', () => {
  it('shares stages with the same fingerprint across trials, owned by the first trial that has them', async () => {
    const p = await plan('pipeline: pipelines/p.yaml\nsweep: { grid: { fit.lr: [0.1, 0.2, 0.3] } }\n');
    // prep: 1 shared unit; fetch (cache: false): one per trial; fit: 3 folds x 3 lrs; score: 3.
    expect(p.units.length).toBe(1 + 3 + 9 + 3);
    const prep = p.units.find((u) => u.stage.id === 'prep')!;
    expect(prep.members.map((m) => m.trial.trial.name)).toEqual(['t000', 't001', 't002']);
    expect(prep.owner.trial.name).toBe('t000');
    const fetches = p.units.filter((u) => u.stage.id === 'fetch');
    expect(fetches.map((u) => [u.owner.trial.name, u.members.length])).toEqual([['t000', 1], ['t001', 1], ['t002', 1]]);
    // A trial's units lead back to its own fetch and the shared prep.
    const fit = p.trials[2]!.unitOf.get('fit@fold=1' as never)!;
    expect(fit.upstream.map((u) => [u.stage.id, u.owner.trial.name])).toEqual([['prep', 't000'], ['fetch', 't002']]);
    // Topological: every unit comes after its upstream units.
    const pos = new Map(p.units.map((u, i) => [u, i]));
    for (const u of p.units) for (const v of u.upstream) expect(pos.get(v)!).toBeLessThan(pos.get(u)!);
    expect(p.units.every((u) => u.decision.kind === 'run')).toBe(true);
  });

  it('trials planned one at a time (an adaptive sweep, one fingerprinter) get the fingerprints and units of a plan of all', async () => {
    const together = await plan('pipeline: pipelines/p.yaml\nsweep: { grid: { fit.lr: [0.1, 0.2, 0.3] } }\n');
    const exp = together.experiment;
    const project = openProject(projectLayout(dir));
    const units = new Map<string, Unit>();
    const fingerprinter = new SweepFingerprinter(project, backendLabel(together.backend));
    const digests = (fps: ReadonlyMap<string, { digest: string }>) => [...fps].map(([id, f]) => [id, f.digest]);
    const created: number[] = [];
    for (const [i, t] of exp.trials.entries()) {
      const r = await planNextTrial(project, exp, together.sweepId, t, units, { force: false, fileExists: fileExistsIn(dir) }, fingerprinter);
      if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
      expect(digests(r.trial.fingerprints)).toEqual(digests(together.trials[i]!.fingerprints));
      created.push(r.created.length);
    }
    // The first trial creates all its units; later ones only their own fetch, fit folds and score.
    expect(created).toEqual([6, 5, 5]);
    expect(units.size).toBe(together.units.length);
  });

  it('lists per trial what it runs, shares and finds cached', async () => {
    const p = await plan('pipeline: pipelines/p.yaml\nsweep: { grid: { fit.lr: [0.1, 0.2] } }\nobjective: { metric: score/mae, direction: min }\n');
    expect(dryRunLines(p)).toEqual([
      'e (experiments/e.yaml) on pipelines/p.yaml: 2 trials, 12 stage instances, 11 distinct: 11 to run, 0 cached; sharing saves 1 run',
      'objective: min score/mae',
      't000  fit.lr=0.1',
      '  run     prep, fetch, fit@fold=0, fit@fold=1, fit@fold=2, score',
      't001  fit.lr=0.2',
      '  run     fetch, fit@fold=0, fit@fold=1, fit@fold=2, score',
      '  share   prep (run by t000)',
    ]);
  });
});
