// Each trial's pipeline. A trial that only changes param values no `${...}` reads is derived from
// the base pipeline (new params, each stage's declared subset picked again): the same result a
// compile from YAML gives, without parsing it again. Any other trial (a stage switch, a param that
// shapes foreach or paths) is compiled from its own YAML text, which is also what its run record
// keeps as the spec snapshot, so `massflow rerun` replays exactly that variant.
import { parseDocument } from 'yaml';
import { selectStages } from '../plan/decide.js';
import { compilePipeline } from '../pipeline/compile.js';
import { chainedDeps, isDvcFile } from '../dvc/load.js';
import { compileSpec } from '../project/compile-spec.js';
import type { Diagnostic } from '../pipeline/diagnostics.js';
import type { Pipeline } from '../pipeline/model.js';
import { applyOverrides, pickParams, type Override } from '../pipeline/params.js';
import type { Experiment } from './experiment.js';
import { overrideString, type TrialSpec } from './expand.js';
import { overlaps } from './param-refs.js';
import type { StageSwitch } from './schema.js';

export interface TrialPipeline {
  pipeline: Pipeline;
  /** Every override applied, as `key=value` strings (experiment, command line, trial). */
  overrides: string[];
}

export type TrialCompileResult =
  | { ok: true; value: TrialPipeline }
  | { ok: false; diagnostics: Diagnostic[] };

export function trialOverrides(trial: TrialSpec): Override[] {
  return Object.entries(trial.params).map(([k, v]) => ({ path: k.split('.'), value: v, add: false, raw: overrideString(k, v) }));
}

export function compileTrial(exp: Experiment, trial: TrialSpec, fileExists: (p: string) => boolean, readFile: (p: string) => string | undefined = () => undefined): TrialCompileResult {
  const r = compileWhole(exp, trial, fileExists, readFile);
  return r.ok && exp.spec.targets ? { ok: true, value: { ...r.value, pipeline: selectTargets(r.value.pipeline, exp.spec.targets) } } : r;
}

/** The experiment's `targets` and what they need; the rest of the pipeline is not part of the trial. */
function selectTargets(pipeline: Pipeline, targets: readonly string[]): Pipeline {
  const sel = selectStages(pipeline, targets);
  // Targets were checked against the base pipeline; a trial whose stages differ keeps what matches.
  if (!sel.ok) return pipeline;
  return { ...pipeline, stages: pipeline.stages.filter((s) => sel.selected.has(s.id)) };
}

function compileWhole(exp: Experiment, trial: TrialSpec, fileExists: (p: string) => boolean, readFile: (p: string) => string | undefined): TrialCompileResult {
  const own = trialOverrides(trial);
  const overrides = [...exp.baseOverrides, ...own];
  const strings = overrides.map((o) => o.raw);
  const switches = Object.entries(trial.switches);
  const shapes = own.some((o) => exp.interpolated.some((r) => overlaps(r, o.path)));
  // A dvc.yaml trial is always loaded again: its commands read params.yaml, which the trial rewrites.
  if (isDvcFile(exp.pipelineFile)) {
    if (switches.length) throw new Error(`trial ${trial.name}: stage switches need a massflow pipeline (checked when the experiment is compiled)`);
    const r = compileSpec({ file: exp.pipelineFile, text: exp.pipelineText, overrides, fileExists, readFile, projectName: exp.base.name });
    if (!r.pipeline) return { ok: false, diagnostics: r.diagnostics };
    return { ok: true, value: { pipeline: chainedDeps(r.pipeline), overrides: strings } };
  }
  if (switches.length === 0 && !shapes) {
    const { params, errors } = applyOverrides(exp.base.params, own);
    // Keys were checked against the pipeline when the experiment was compiled.
    if (errors.length) throw new Error(`trial ${trial.name}: ${errors.join('; ')}`);
    const stages = exp.base.stages.map((s) => ({ ...s, params: pickParams(params, s.paramKeys) }));
    return { ok: true, value: { pipeline: { ...exp.base, params, stages }, overrides: strings } };
  }
  const text = switches.length ? applySwitches(exp.pipelineText, trial, exp.file) : exp.pipelineText;
  const r = compilePipeline({ file: exp.pipelineFile, text, overrides, profiles: exp.profiles, fileExists });
  if (!r.pipeline) return { ok: false, diagnostics: r.diagnostics };
  return { ok: true, value: { pipeline: r.pipeline, overrides: strings } };
}

/** The pipeline's YAML with the trial's stage switches written in (comments and layout kept). */
export function applySwitches(pipelineText: string, trial: TrialSpec, experimentFile: string): string {
  const doc = parseDocument(pipelineText);
  for (const [stage, sw] of Object.entries(trial.switches) as [string, StageSwitch][]) {
    const at = ['stages', stage];
    if (sw.run !== undefined) {
      doc.setIn([...at, 'run'], sw.run);
      doc.deleteIn([...at, 'cmd']);
      doc.deleteIn([...at, 'shell']);
    }
    if (sw.cmd !== undefined) {
      doc.setIn([...at, 'cmd'], doc.createNode(sw.cmd, { flow: true }));
      doc.deleteIn([...at, 'run']);
    }
    for (const [k, v] of Object.entries(sw.env ?? {})) doc.setIn([...at, 'env', k], v);
  }
  const note = ` variant '${trial.ablation ?? trial.name}' of this pipeline (stage switches from ${experimentFile})`;
  doc.commentBefore = doc.commentBefore ? `${note}\n${doc.commentBefore}` : note;
  return String(doc);
}
