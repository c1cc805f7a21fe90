// Headline metrics (`summary:`) and what a run is called in MLflow: compiled, located errors, values picked.
import { describe, expect, it } from 'vitest';
import { asStageId } from '../../src/core/brand.js';
import { compilePipeline } from '../../src/spec/compile.js';
import { headlineValues } from '../../src/run/tracking-sink.js';
import { pipelineRunName, trialRunName } from '../../src/run/run-label.js';

const spec = (summary: string) => `
name: h
params: { cv: { folds: 2 } }
${summary}
stages:
  prep: { cmd: [prep], outs: [data] }
  fit:
    foreach: { fold: "\${range(cv.folds)}" }
    cmd: [fit]
    deps: [data]
    outs: ["m\${fold}"]
  report: { cmd: [report], deps: [m0, m1], outs: [r.json] }
  side: { cmd: [side], deps: [data], outs: [side.txt] }
`;
const compile = (summary: string) => compilePipeline({ file: 'p.yaml', text: spec(summary), overrides: [] });

describe('summary: headline metrics', () => {
  it('defaults to every metric of the final stages (none depends on them)', () => {
    const r = compile('');
    expect(r.diagnostics).toEqual([]);
    expect(r.pipeline!.headline).toEqual([{ stage: 'report' }, { stage: 'side' }]);
  });

  it('resolves STAGE/METRIC, a foreach instance by its id; the metric may hold slashes', () => {
    const r = compile('summary: [report/mae_mean, fit@fold=1/val/mae]');
    expect(r.diagnostics).toEqual([]);
    expect(r.pipeline!.headline).toEqual([{ stage: 'report', metric: 'mae_mean' }, { stage: 'fit@fold=1', metric: 'val/mae' }]);
  });

  it('reports an unknown stage and an ambiguous foreach stage at the entry, and a malformed entry by the schema', () => {
    const r = compile('summary: [nope/x, fit/val_mae]');
    expect(r.diagnostics.map((d) => [d.code, d.message, d.location?.range.start])).toEqual([
      ['summary', "summary 'nope/x': unknown stage 'nope' (stages: prep, fit, report, side)", { line: 4, col: 11 }],
      ['summary', "summary 'fit/val_mae': stage 'fit' runs as 2 instances (fit@fold=0, fit@fold=1); name one", { line: 4, col: 19 }],
    ]);
    expect(compile('summary: [mae_mean]').diagnostics.map((d) => d.code)).toEqual(['schema']);
  });

  it('logs each under its own name, stage-qualified where two stages share one, with the last value', () => {
    const p = compile('summary: [report/mae, side/mae, report/n, report/absent]').pipeline!;
    const last = new Map([[asStageId('report'), new Map([['mae', 0.2], ['n', 3]])], [asStageId('side'), new Map([['mae', 0.3]])]]);
    expect(headlineValues(p, last)).toEqual([['report/mae', 0.2], ['side/mae', 0.3], ['n', 3]]);
    const all = compile('').pipeline!;
    expect(headlineValues(all, last)).toEqual([['report/mae', 0.2], ['n', 3], ['side/mae', 0.3]]);
  });
});

describe('run names', () => {
  it('lead with what distinguishes the run', () => {
    expect(pipelineRunName('paper')).toBe('paper');
    expect(pipelineRunName('paper', ['wide'], ['fit.lr=1e-3'])).toBe('paper +wide fit.lr=1e-3');
    expect(trialRunName('t003', { 'fit.lr': 3e-4, 'fit.batch': 32 })).toBe('t003 fit.lr=0.0003 fit.batch=32');
    expect(trialRunName('no-augment', {})).toBe('no-augment');
  });
});
