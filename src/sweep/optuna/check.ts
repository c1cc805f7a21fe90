// Checks of a `sweep.optuna` block beyond its schema, each a located diagnostic and all at once,
// before the study is opened or anything runs: the search space's bounds and steps, option names
// the chosen sampler or pruner does not take, a pruning metric no targeted stage can report, and
// what Optuna needs from the rest of the experiment (an objective to tell, no ablations).
import { isAbsolute } from 'node:path';
import { normalizeProjectPath } from '../../pipeline/compile.js';
import { diag, type Diagnostic } from '../../pipeline/diagnostics.js';
import type { Location } from '../../pipeline/diagnostics.js';
import type { Pipeline } from '../../pipeline/model.js';
import type { PathSegment } from '../../pipeline/yaml-source.js';
import { selectStages } from '../../plan/decide.js';
import { didYouMean } from '../checks.js';
import type { ExperimentSpec } from '../schema.js';
import { objectivesOf } from '../objective.js';
import { MULTI_OBJECTIVE_SAMPLERS, PRUNER_OPTIONS, SAMPLER_OPTIONS, type OptunaDistribution, type OptunaSweep } from './schema.js';

export interface OptunaCheckContext {
  spec: ExperimentSpec;
  pipeline: Pipeline;
  pipelineFile: string;
  at: (path: PathSegment[], key?: boolean) => Location | undefined;
  /** The experiment's own per-param checks: the key exists, is read, and has this kind of value. */
  checkParam: (key: string, path: PathSegment[]) => { ok: false } | { ok: true; kind: string };
  checkValue: (key: string, value: unknown, path: PathSegment[]) => void;
}

const BASE: PathSegment[] = ['sweep', 'optuna'];

export function checkOptuna(o: OptunaSweep, cx: OptunaCheckContext): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (p: PathSegment[], key = false) => cx.at([...BASE, ...p], key);
  for (const [key, d] of Object.entries(o.params)) {
    const path: PathSegment[] = [...BASE, 'params', key];
    const known = cx.checkParam(key, path);
    if (!known.ok) continue;
    const problem = distributionProblem(d, known.kind, key, cx.pipelineFile);
    if (problem) out.push(diag('experiment', problem.message, cx.at([...path, problem.field])));
    if ('choice' in d) d.choice.forEach((v, i) => cx.checkValue(key, v, [...path, 'choice', i]));
  }
  out.push(...conditionProblems(o, cx));
  const sampler = o.sampler ?? 'tpe';
  out.push(...unknownOptions(o.sampler_options, SAMPLER_OPTIONS[sampler], `sampler '${sampler}'`, ['sampler_options'], at));
  out.push(...severalObjectivesProblems(o, cx));
  if (o.prune) {
    out.push(...unknownOptions(o.prune.options, PRUNER_OPTIONS[o.prune.pruner], `pruner '${o.prune.pruner}'`, ['prune', 'options'], at));
    const stage = pruneStageProblem(o.prune.metric, cx.pipeline, cx.spec.targets, cx.pipelineFile);
    if (stage) out.push(diag('experiment', stage, at(['prune', 'metric'])));
  }
  // An absolute path is allowed: several machines' clones of a project share one study on a shared disk.
  if (o.storage !== undefined && !o.storage.includes('://') && !isAbsolute(o.storage) && normalizeProjectPath(o.storage) === undefined) {
    out.push(diag('path-escape', `storage '${o.storage}' must be a database URL, an absolute path or a path inside the project`, at(['storage'])));
  }
  if (!cx.spec.objective) out.push(diag('experiment', 'an optuna sweep needs an `objective`: it is the value each trial tells the study', at([], true)));
  if (cx.spec.ablations) out.push(diag('experiment', 'an optuna sweep takes no ablations (run them as a grid or list sweep)', cx.at(['ablations'], true)));
  return out;
}

/** What is wrong with a distribution's bounds or step, and at which of its fields. */
export function distributionProblem(d: OptunaDistribution, paramKind: string, key: string, file: string): { field: string; message: string } | undefined {
  if ('choice' in d) return undefined;
  const field = 'uniform' in d ? 'uniform' : 'integer' in d ? 'integer' : 'log-uniform';
  const [lo, hi] = 'uniform' in d ? d.uniform : 'integer' in d ? d.integer : d['log-uniform'];
  if (paramKind !== 'number' && paramKind !== 'null') return { field, message: `'${key}' is a ${paramKind} in ${file}; ${field} suggests numbers (use choice)` };
  if ('integer' in d) {
    if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo <= hi)) return { field, message: `integer bounds must be integers with low <= high, got [${lo}, ${hi}]` };
    if (d.log && lo < 1) return { field, message: `a log integer needs low >= 1, got [${lo}, ${hi}]` };
    if (d.log && d.step !== undefined && d.step !== 1) return { field: 'step', message: 'a log integer takes no step (Optuna allows step 1 only)' };
  } else if (!(lo < hi)) return { field, message: `${field} bounds need low < high, got [${lo}, ${hi}]` };
  else if ('log-uniform' in d && !(lo > 0)) return { field, message: `log-uniform bounds must be > 0, got [${lo}, ${hi}]` };
  const step = 'step' in d ? d.step : undefined;
  if (step !== undefined && step > hi - lo && hi > lo) return { field: 'step', message: `step ${step} is wider than [${lo}, ${hi}]: only ${lo} could be suggested` };
  return undefined;
}

/**
 * A param's `when` names choice params declared before it (so the study suggests them first and
 * conditions cannot go round in a circle), each with values among its choices.
 */
function conditionProblems(o: OptunaSweep, cx: OptunaCheckContext): Diagnostic[] {
  const out: Diagnostic[] = [];
  const keys = Object.keys(o.params);
  keys.forEach((key, at) => {
    for (const [on, want] of Object.entries(o.params[key]!.when ?? {})) {
      const path: PathSegment[] = [...BASE, 'params', key, 'when', on];
      const d = o.params[on];
      const before = keys.slice(0, at);
      if (!d) {
        out.push(diag('experiment', `'${key}' is conditional on '${on}', which is not a param of this search space (${before.length ? `params before it: ${before.join(', ')}` : 'it is the first param'})`, cx.at(path, true)));
      } else if (!before.includes(on)) {
        out.push(diag('experiment', `'${key}' is conditional on '${on}', which is declared ${on === key ? 'as itself' : 'after it'}: declare the param a condition reads first`, cx.at(path, true)));
      } else if (!('choice' in d)) {
        out.push(diag('experiment', `'${key}' is conditional on '${on}', which is not a choice: a condition compares a choice's value`, cx.at(path, true)));
      } else {
        const choices = d.choice.map((c) => JSON.stringify(c));
        const values = Array.isArray(want) ? want : [want];
        values.forEach((v, i) => {
          if (!choices.includes(JSON.stringify(v))) out.push(diag('experiment', `'${on}' never takes ${JSON.stringify(v)} (its choices: ${choices.join(', ')})`, cx.at(Array.isArray(want) ? [...path, i] : path)));
        });
      }
    }
  });
  return out;
}

/** Several objectives need a sampler that optimizes them together, and leave nothing to prune by. */
function severalObjectivesProblems(o: OptunaSweep, cx: OptunaCheckContext): Diagnostic[] {
  const n = objectivesOf(cx.spec.objective).length;
  if (n < 2) return [];
  const out: Diagnostic[] = [];
  const objective = cx.at(['objective'], true);
  const related = objective ? [{ message: `the ${n} objectives`, location: objective }] : [];
  const sampler = o.sampler ?? 'tpe';
  if (!MULTI_OBJECTIVE_SAMPLERS.includes(sampler)) {
    out.push(diag('experiment', `sampler '${sampler}' optimizes one objective; this experiment has ${n} (use ${MULTI_OBJECTIVE_SAMPLERS.join(', ')})`, cx.at([...BASE, 'sampler']), related));
  }
  if (o.prune) {
    out.push(diag('experiment', `pruning needs a single objective: Optuna's pruners compare one value per step, and this experiment has ${n}`, cx.at([...BASE, 'prune'], true), related));
  }
  return out;
}

function unknownOptions(
  given: Record<string, unknown> | undefined, allowed: readonly string[], what: string, path: PathSegment[],
  at: (p: PathSegment[], key?: boolean) => Location | undefined,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const known = Object.fromEntries(allowed.map((k) => [k, true]));
  for (const k of Object.keys(given ?? {})) {
    if (allowed.includes(k)) continue;
    const hint = didYouMean(k, known) || (allowed.length ? ` (it takes ${allowed.join(', ')})` : ' (it takes none)');
    out.push(diag('experiment', `${what} has no option '${k}'${hint}`, at([...path, k], true)));
  }
  return out;
}

/** The pruning metric must come from a stage the sweep runs: a stage name or instance id among the targets' closure. */
function pruneStageProblem(metric: string, pipeline: Pipeline, targets: string[] | undefined, file: string): string | undefined {
  const stagePart = metric.slice(0, metric.indexOf('/'));
  const named = pipeline.stages.filter((s) => s.name === stagePart || s.id === stagePart);
  const names = [...new Set(pipeline.stages.map((s) => s.name))];
  if (!named.length) return `the pruning metric names stage '${stagePart}', which ${file} does not have (stages: ${names.join(', ')})`;
  const sel = targets ? selectStages(pipeline, targets) : undefined;
  if (sel?.ok && !named.some((s) => sel.selected.has(s.id))) return `no targeted stage reports the pruning metric: stage '${stagePart}' is neither a target nor needed by one`;
  return undefined;
}
