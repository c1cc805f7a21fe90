// An experiment file -> a validated experiment: its pipeline compiled with the base overrides and
// its trials expanded. Every mistake is a located diagnostic, all reported at once, like pipelines:
// unknown params (with "did you mean"), values of the wrong type, bad distributions, unknown stages
// in switches or the objective, two sweep kinds at once, a bad Optuna search space.
import { createHash } from 'node:crypto';
import { basename, extname } from 'node:path';
import { asDigest, type Digest } from '../core/brand.js';
import { normalizeProjectPath, type CompileResult } from '../pipeline/compile.js';
import { compileSpec } from '../project/compile-spec.js';
import { isDvcFile } from '../dvc/load.js';
import { diag, hasErrors, sortDiagnostics, type Diagnostic } from '../pipeline/diagnostics.js';
import { lookupPath } from '../pipeline/interpolate.js';
import type { Pipeline } from '../pipeline/model.js';
import { selectStages } from '../plan/decide.js';
import type { Override } from '../pipeline/params.js';
import { YamlSource, type PathSegment } from '../pipeline/yaml-source.js';
import { didYouMean, kindOf, schemaDiagnostics } from './checks.js';
import { expandTrials, overrideString, type TrialSpec } from './expand.js';
import { interpolatedRefs, readsParam } from './param-refs.js';
import { ExperimentSchema, objectiveHint, type ExperimentSpec } from './schema.js';
import { objectivesOf } from './objective.js';
import { checkOptuna } from './optuna/check.js';

export interface Experiment {
  name: string;
  /** Project-relative path of the experiment file. */
  file: string;
  text: string;
  digest: Digest;
  spec: ExperimentSpec;
  pipelineFile: string;
  pipelineText: string;
  /** The pipeline with the experiment's overrides and the command line's applied: every trial starts here. */
  base: Pipeline;
  /** The pipeline's profiles applied to every trial (the experiment's, then `--profile`), before the overrides. */
  profiles: string[];
  /** Experiment overrides, then command-line ones, as applied to `base`. */
  baseOverrides: Override[];
  /** Param paths read by `${...}` in the pipeline (a trial changing one must be compiled from scratch). */
  interpolated: string[][];
  trials: TrialSpec[];
}

export interface ExperimentInput {
  /** Shown in diagnostics (project-relative). */
  file: string;
  text: string;
  /** Reads a project-relative file; undefined when it cannot be read. */
  readFile: (projectRelative: string) => string | undefined;
  fileExists: (projectRelative: string) => boolean;
  /** Names the pipeline of a dvc.yaml (the project directory's name). */
  projectName?: string;
  /** Whether a file or directory is there (a `deps` path no stage writes must be). */
  pathExists?: (projectRelative: string) => boolean;
  /** `-p key=value` from the command line, applied after the experiment's own overrides. */
  cliOverrides?: readonly Override[];
  /** `--profile NAME` from the command line, applied after the experiment's own profiles. */
  cliProfiles?: readonly string[];
}

export type ExperimentResult =
  | { ok: true; experiment: Experiment; warnings: Diagnostic[] }
  | { ok: false; diagnostics: Diagnostic[]; skipped: string[] };

export function compileExperiment(input: ExperimentInput): ExperimentResult {
  const { source, diagnostics } = YamlSource.parse(input.file, input.text);
  const skipped: string[] = [];
  const fail = (): ExperimentResult => ({ ok: false, diagnostics: sortDiagnostics(diagnostics), skipped });
  if (hasErrors(diagnostics)) return fail();
  const js = source.toJS();
  if (!js.ok) { diagnostics.push(js.diagnostic); return fail(); }
  const raw = js.value;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    diagnostics.push(diag('schema', 'an experiment file must be a map with at least `pipeline`', source.locate([])));
    return fail();
  }
  diagnostics.push(...schemaDiagnostics(ExperimentSchema, source, raw, objectiveHint));
  if (hasErrors(diagnostics)) return fail();
  const spec = raw as ExperimentSpec;
  const at = (path: PathSegment[], key = false) => source.locate(path, { key });

  // The pipeline, compiled as written: its params and stages are what the experiment is checked against.
  const pipelineFile = normalizeProjectPath(spec.pipeline);
  if (pipelineFile === undefined) {
    diagnostics.push(diag('path-escape', `pipeline path '${spec.pipeline}' must be relative and stay inside the project`, at(['pipeline'])));
    return fail();
  }
  const pipelineText = input.readFile(pipelineFile);
  if (pipelineText === undefined) {
    diagnostics.push(diag('file', `cannot read pipeline file '${pipelineFile}'`, at(['pipeline'])));
    return fail();
  }
  const io = { fileExists: input.fileExists, readFile: input.readFile, ...(input.pathExists && { pathExists: input.pathExists }), ...(input.projectName ? { projectName: input.projectName } : {}) };
  const plain = compileSpec({ file: pipelineFile, text: pipelineText, ...io });
  if (!plain.pipeline) {
    diagnostics.push(...plain.diagnostics);
    skipped.push(...plain.skipped, 'the experiment against its pipeline');
    return fail();
  }
  const plainSpec = (plain.source.toJS() as { ok: true; value: { profiles?: object } }).value; // it compiled, so it converts
  const pipeline = plain.pipeline;
  const params = pipeline.params;
  const interpolated = interpolatedRefs(plainSpec);

  const stageNames = [...new Set(pipeline.stages.map((s) => s.name))];
  const checkKey = (key: string, path: PathSegment[]): boolean => {
    if (lookupPath(params, key.split('.')).found) return true;
    diagnostics.push(diag('unknown-param', `unknown param '${key}' in ${pipelineFile}${didYouMean(key, params)}`, at(path, true)));
    return false;
  };
  const checkValue = (key: string, value: unknown, path: PathSegment[]) => {
    const want = kindOf(lookupPath(params, key.split('.')).value);
    const got = kindOf(value);
    if (want !== 'null' && got !== want) {
      diagnostics.push(diag('experiment', `'${key}' is a ${want} in ${pipelineFile}, got a ${got} (${JSON.stringify(value)})`, at(path)));
    }
  };
  const unread = new Set<string>();
  const checkRead = (key: string, path: PathSegment[]) => {
    if (unread.has(key) || readsParam(pipeline, interpolated, key)) return;
    unread.add(key);
    diagnostics.push(diag('experiment', `no stage reads '${key}': trials that differ only in it compute the same thing`, at(path, true), [], 'warning'));
  };
  const checkOverrides = (map: Record<string, unknown> | undefined, base: PathSegment[], varied: boolean) => {
    for (const [key, value] of Object.entries(map ?? {})) {
      if (!checkKey(key, [...base, key])) continue;
      checkValue(key, value, [...base, key]);
      if (varied) checkRead(key, [...base, key]);
    }
  };

  checkOverrides(spec.overrides, ['overrides'], false);
  const declared = Object.keys(plainSpec.profiles ?? {});
  (spec.profiles ?? []).forEach((name, i) => {
    if (!declared.includes(name)) diagnostics.push(diag('experiment', `unknown profile '${name}' (${declared.length ? `${pipelineFile} declares ${declared.join(', ')}` : `${pipelineFile} declares no profiles`})`, at(['profiles', i])));
  });

  const sweepKeys = new Set<string>();
  if (spec.sweep) {
    const kinds = (['grid', 'random', 'list', 'optuna'] as const).filter((k) => spec.sweep![k] !== undefined);
    if (kinds.length !== 1) {
      diagnostics.push(diag('experiment', kinds.length ? `a sweep is one of grid, random, list or optuna, not ${kinds.join(' and ')}` : 'a sweep needs one of grid, random, list or optuna', at(['sweep'], true)));
    }
    for (const [key, values] of Object.entries(spec.sweep.grid ?? {})) {
      sweepKeys.add(key);
      if (!checkKey(key, ['sweep', 'grid', key])) continue;
      values.forEach((v, i) => checkValue(key, v, ['sweep', 'grid', key, i]));
      checkRead(key, ['sweep', 'grid', key]);
    }
    for (const [key, d] of Object.entries(spec.sweep.random?.params ?? {})) {
      sweepKeys.add(key);
      const path: PathSegment[] = ['sweep', 'random', 'params', key];
      if (!checkKey(key, path)) continue;
      checkRead(key, path);
      if ('choice' in d) { d.choice.forEach((v, i) => checkValue(key, v, [...path, 'choice', i])); continue; }
      const [kind, [lo, hi]] = Object.entries(d)[0] as [string, [number, number]];
      const want = kindOf(lookupPath(params, key.split('.')).value);
      if (want !== 'number' && want !== 'null') diagnostics.push(diag('experiment', `'${key}' is a ${want} in ${pipelineFile}; ${kind} draws numbers (use choice)`, at([...path, kind])));
      else if (kind === 'integer' && !(Number.isInteger(lo) && Number.isInteger(hi) && lo <= hi)) diagnostics.push(diag('experiment', `integer bounds must be integers with low <= high, got [${lo}, ${hi}]`, at([...path, kind])));
      else if (kind !== 'integer' && !(lo < hi)) diagnostics.push(diag('experiment', `${kind} bounds need low < high, got [${lo}, ${hi}]`, at([...path, kind])));
      else if (kind === 'log-uniform' && !(lo > 0)) diagnostics.push(diag('experiment', `log-uniform bounds must be > 0, got [${lo}, ${hi}]`, at([...path, kind])));
    }
    if (spec.sweep.optuna) {
      for (const key of Object.keys(spec.sweep.optuna.params)) sweepKeys.add(key);
      diagnostics.push(...checkOptuna(spec.sweep.optuna, {
        spec, pipeline, pipelineFile, at, checkValue,
        checkParam: (key, path) => {
          if (!checkKey(key, path)) return { ok: false };
          checkRead(key, path);
          return { ok: true, kind: kindOf(lookupPath(params, key.split('.')).value) };
        },
      }));
    }
    (spec.sweep.list ?? []).forEach((entry, i) => {
      for (const key of Object.keys(entry)) sweepKeys.add(key);
      checkOverrides(entry, ['sweep', 'list', i], true);
    });
  }

  for (const [name, a] of Object.entries(spec.ablations ?? {})) {
    if (name === 'baseline') diagnostics.push(diag('experiment', "'baseline' is the unchanged pipeline; name the ablation something else", at(['ablations', name], true)));
    checkOverrides(a.params, ['ablations', name, 'params'], true);
    for (const key of Object.keys(a.params ?? {})) {
      if (sweepKeys.has(key)) diagnostics.push(diag('experiment', `'${key}' is set by both the sweep and ablation '${name}'`, at(['ablations', name, 'params', key], true)));
    }
    for (const [stage, sw] of Object.entries(a.stages ?? {})) {
      const path: PathSegment[] = ['ablations', name, 'stages', stage];
      if (isDvcFile(pipelineFile)) {
        diagnostics.push(diag('experiment', `stage switches need a massflow pipeline: ${pipelineFile} is a dvc.yaml (vary its params instead, or \`massflow import\` it)`, at(path, true)));
        continue;
      }
      if (!stageNames.includes(stage)) {
        diagnostics.push(diag('experiment', `unknown stage '${stage}' in ${pipelineFile} (stages: ${stageNames.join(', ')})`, at(path, true)));
        continue;
      }
      if (sw.run !== undefined && sw.cmd !== undefined) diagnostics.push(diag('run-or-cmd', `a stage switch replaces either 'run' or 'cmd', not both`, at(path, true)));
      if (sw.run !== undefined) {
        const module = normalizeProjectPath(sw.run);
        if (module === undefined) diagnostics.push(diag('path-escape', `run module '${sw.run}' must be inside the project`, at([...path, 'run'])));
        else if (!input.fileExists(module)) diagnostics.push(diag('file', `stage module '${module}' does not exist`, at([...path, 'run'])));
      }
    }
    if (!a.params && !a.stages) diagnostics.push(diag('experiment', `ablation '${name}' changes nothing (give it params or stages)`, at(['ablations', name], true), [], 'warning'));
  }

  (spec.targets ?? []).forEach((t, i) => {
    if (!pipeline.stages.some((s) => s.name === t || s.id === t)) diagnostics.push(diag('experiment', `unknown stage '${t}' in ${pipelineFile} (stages: ${stageNames.join(', ')})`, at(['targets', i])));
  });
  const objectives = objectivesOf(spec.objective);
  const sel = spec.targets ? selectStages(pipeline, spec.targets) : undefined;
  objectives.forEach((o, i) => {
    const path: PathSegment[] = Array.isArray(spec.objective) ? ['objective', i, 'metric'] : ['objective', 'metric'];
    const stagePart = o.metric.slice(0, o.metric.indexOf('/'));
    const named = (s: Pipeline['stages'][number]) => s.name === stagePart || s.id === stagePart;
    if (!pipeline.stages.some(named)) {
      diagnostics.push(diag('experiment', `the objective names stage '${stagePart}', which ${pipelineFile} does not have (stages: ${stageNames.join(', ')})`, at(path)));
    } else if (sel?.ok && !pipeline.stages.some((s) => sel.selected.has(s.id) && named(s))) {
      diagnostics.push(diag('experiment', `the objective's stage '${stagePart}' is neither a target nor needed by one`, at(path)));
    }
    if (objectives.findIndex((p) => p.metric === o.metric) < i) diagnostics.push(diag('experiment', `objective '${o.metric}' is listed twice`, at(path)));
  });

  // Command-line overrides must not fight the sweep: a swept value would silently win or lose.
  for (const o of input.cliOverrides ?? []) {
    const key = o.path.join('.');
    const ablated = Object.entries(spec.ablations ?? {}).find(([, a]) => a.params && key in a.params);
    if (sweepKeys.has(key) || ablated) diagnostics.push(diag('override', `-p ${o.raw}: '${key}' is varied by the experiment (${ablated ? `ablation '${ablated[0]}'` : 'the sweep'}); change it in ${input.file}`, undefined));
  }
  if (hasErrors(diagnostics)) return fail();

  const baseOverrides: Override[] = [
    ...Object.entries(spec.overrides ?? {}).map(([k, v]) => ({ path: k.split('.'), value: v, add: false, raw: overrideString(k, v) })),
    ...(input.cliOverrides ?? []),
  ];
  const profiles = [...(spec.profiles ?? []), ...(input.cliProfiles ?? [])];
  const base: CompileResult = baseOverrides.length || profiles.length
    ? compileSpec({ file: pipelineFile, text: pipelineText, overrides: baseOverrides, profiles, ...io })
    : plain;
  if (!base.pipeline) {
    diagnostics.push(...base.diagnostics);
    return fail();
  }
  const warnings = sortDiagnostics(diagnostics);
  return {
    ok: true,
    warnings,
    experiment: {
      name: spec.name ?? basename(input.file, extname(input.file)),
      file: input.file,
      text: input.text,
      digest: asDigest(createHash('sha256').update(input.text).digest('hex')),
      spec,
      pipelineFile,
      pipelineText,
      base: base.pipeline,
      profiles,
      baseOverrides,
      interpolated,
      trials: expandTrials(spec),
    },
  };
}
