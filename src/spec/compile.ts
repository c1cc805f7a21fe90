// Spec text -> compiled pipeline, collecting every error at once. Pure apart from the injected
// `fileExists` (used to check that a `run:` module is there).
import { DEFAULT_STOP_GRACE_MS, parseStopGrace, stdoutMetricsPattern } from './stage-options.js';
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { asDigest, asStageId, type StageId } from '../core/brand.js';
import { diag, hasErrors, sortDiagnostics, type Diagnostic, type Location } from './diagnostics.js';
import { hasInterpolation, interpolate, lookupPath, type Scope } from './interpolate.js';
import type { Pipeline, Resources, StageInstance } from './model.js';
import { applyOverrides, pickParams, type Override } from './params.js';
import { PipelineSchema, STAGE_NAME, type PipelineSpec, type StageSpec } from './schema.js';
import { YamlSource, type PathSegment } from './yaml-source.js';
import { buildEdges } from '../plan/graph.js';
import { didYouMean, schemaDiagnostics } from './schema-diagnostics.js';
import { parseMemory } from './units.js';

export interface CompileInput {
  /** The path shown in diagnostics (relative to the project). */
  file: string;
  text: string;
  overrides?: readonly Override[];
  /** Named param sets from the spec's `profiles`, applied in order before `overrides`. */
  profiles?: readonly string[];
  fileExists?: (projectRelative: string) => boolean;
}

export interface CompileResult {
  pipeline: Pipeline | undefined;
  diagnostics: Diagnostic[];
  source: YamlSource;
}

export function compilePipeline(input: CompileInput): CompileResult {
  const { source, diagnostics } = YamlSource.parse(input.file, input.text);
  const done = (pipeline?: Pipeline): CompileResult => ({ pipeline, diagnostics: sortDiagnostics(diagnostics), source });
  if (hasErrors(diagnostics)) return done();

  const raw = source.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    diagnostics.push(diag('schema', 'a pipeline file must be a map with `name` and `stages`', source.locate([])));
    return done();
  }
  diagnostics.push(...specDiagnostics(source, raw));
  if (hasErrors(diagnostics)) return done();
  const spec = raw as PipelineSpec;

  const profileOverrides: Override[] = [];
  for (const [name, set] of Object.entries(spec.profiles ?? {})) {
    for (const key of Object.keys(set)) {
      if (!lookupPath(spec.params ?? {}, key.split('.')).found) {
        diagnostics.push(diag('unknown-param', `unknown param '${key}' in profile '${name}'`, source.locate(['profiles', name, key], { key: true })));
      }
    }
  }
  for (const name of input.profiles ?? []) {
    const set = spec.profiles?.[name];
    if (!set) {
      const known = Object.keys(spec.profiles ?? {});
      diagnostics.push(diag('override', `unknown profile '${name}' (${known.length ? `profiles: ${known.join(', ')}` : 'the pipeline declares no profiles'})`, undefined));
      continue;
    }
    for (const [key, value] of Object.entries(set)) profileOverrides.push({ path: key.split('.'), value, add: false, raw: `${key} (profile ${name})` });
  }
  if (hasErrors(diagnostics)) return done();
  const { params, errors } = applyOverrides(spec.params ?? {}, [...profileOverrides, ...(input.overrides ?? [])]);
  for (const message of errors) diagnostics.push(diag('override', message, undefined));

  const stages: StageInstance[] = [];
  for (const [name, stage] of Object.entries(spec.stages)) {
    stages.push(...compileStage(source, name, stage, params, input.fileExists, diagnostics));
  }
  if (hasErrors(diagnostics)) return done();

  const ids = new Set(stages.map((s) => s.id));
  const byName = new Map<string, StageId[]>();
  for (const s of stages) byName.set(s.name, [...(byName.get(s.name) ?? []), s.id]);
  for (const s of stages) {
    const resolved: StageId[] = [];
    s.needs.forEach((n, i) => {
      const targets = ids.has(n) ? [n] : byName.get(n);
      if (!targets) {
        diagnostics.push(diag('unknown-needs', `unknown stage '${n}' in needs of '${s.id}'`, source.locate([...s.yamlPath, 'needs', i])));
      } else resolved.push(...targets.filter((t) => t !== s.id));
    });
    s.needs = resolved;
  }
  if (hasErrors(diagnostics)) return done();

  const graph = buildEdges(stages, source);
  diagnostics.push(...graph.diagnostics);
  if (hasErrors(diagnostics) || !graph.order) return done();

  const byId = new Map(stages.map((s) => [s.id, s] as const));
  return done({
    name: spec.name,
    file: input.file,
    specText: input.text,
    specDigest: asDigest(createHash('sha256').update(input.text).digest('hex')),
    params,
    stages: graph.order.map((id) => byId.get(id)!),
    upstream: graph.upstream,
    tracking: { uri: spec.tracking?.uri, experiment: spec.tracking?.experiment },
    executor: spec.executor ?? 'local',
    slurm: spec.slurm ?? {},
  });
}

function specDiagnostics(source: YamlSource, raw: object): Diagnostic[] {
  const out = schemaDiagnostics(PipelineSchema, source, raw);
  const stages = (raw as { stages?: unknown }).stages;
  if (stages && typeof stages === 'object') {
    for (const name of Object.keys(stages)) {
      if (!STAGE_NAME.test(name)) {
        out.push(diag('stage-name', `stage name '${name}' must start with a letter and hold only letters, digits, '-' and '_'`, source.locate(['stages', name], { key: true })));
      }
    }
  }
  return out;
}

function compileStage(
  source: YamlSource,
  name: string,
  stage: StageSpec,
  params: Record<string, unknown>,
  fileExists: ((p: string) => boolean) | undefined,
  diagnostics: Diagnostic[],
): StageInstance[] {
  const base: PathSegment[] = ['stages', name];
  const loc = (p: PathSegment[], key = false) => source.locate([...base, ...p], { key });
  if ((stage.run === undefined) === (stage.cmd === undefined)) {
    diagnostics.push(diag('run-or-cmd', `stage '${name}' needs exactly one of 'run' (a TS module) or 'cmd' (a program and its arguments)`, loc([], true)));
    return [];
  }
  (stage.params ?? []).forEach((key, i) => {
    if (!lookupPath(params, key.split('.')).found) {
      diagnostics.push(diag('unknown-param', `unknown param '${key}' in stage '${name}'${didYouMean(key, params)}`, loc(['params', i])));
    }
  });

  const combos = expandForeach(source, base, stage, params, diagnostics);
  if (!combos) return [];
  const instances: StageInstance[] = [];
  for (const vars of combos) {
    const scope: Scope = { vars, params };
    const errorsBefore = diagnostics.length;
    const str = (path: PathSegment[], value: string): string => {
      if (!hasInterpolation(value)) return value;
      const r = interpolate(value, scope);
      if (!r.ok) {
        diagnostics.push(diag(r.error.code, r.error.message, source.locateInScalar([...base, ...path], r.error.start, r.error.end)));
        return value;
      }
      if (r.value !== null && typeof r.value === 'object') {
        diagnostics.push(diag('interpolation', 'expected a string here, got a list or map', loc(path)));
        return value;
      }
      return String(r.value);
    };
    const paths = (field: 'deps' | 'outs' | 'metrics') =>
      (stage[field] ?? []).map((p, i) => {
        const v = str([field, i], p);
        const n = normalizeProjectPath(v);
        if (n === undefined) diagnostics.push(diag('path-escape', `${field} path '${v}' must be relative and stay inside the project`, loc([field, i])));
        return n ?? v;
      });
    const impl: StageInstance['impl'] = stage.run !== undefined
      ? { kind: 'ts', module: normalizeProjectPath(str(['run'], stage.run)) ?? stage.run }
      : { kind: 'cmd', argv: stage.cmd!.map((a, i) => str(['cmd', i], a)), shell: stage.shell ?? false };
    if (impl.kind === 'ts') {
      if (normalizeProjectPath(impl.module) === undefined) diagnostics.push(diag('path-escape', `run module '${impl.module}' must be inside the project`, loc(['run'])));
      else if (fileExists && !fileExists(impl.module)) diagnostics.push(diag('file', `stage module '${impl.module}' does not exist`, loc(['run'])));
    }
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(stage.env ?? {})) env[k] = str(['env', k], v);
    const id = asStageId(Object.keys(vars).length ? `${name}@${Object.entries(vars).map(([k, v]) => `${k}=${formatVar(v)}`).join(',')}` : name);
    const resources = compileResources(stage, (m) => diagnostics.push(diag('schema', m, loc(['resources', 'memory']))));
    const grace = parseStopGrace(stage.stop_grace);
    if (!grace.ok) diagnostics.push(diag('schema', grace.message, loc(['stop_grace'])));
    const pattern = stdoutMetricsPattern(stage.stdout_metrics);
    if (!pattern.ok) diagnostics.push(diag('schema', pattern.message, loc(['stdout_metrics'])));
    const instance: StageInstance = {
      id,
      name,
      vars,
      impl,
      deps: paths('deps'),
      outs: paths('outs'),
      metrics: paths('metrics'),
      summary: stage.summary === undefined ? undefined : summaryPath(str(['summary'], stage.summary), () => loc(['summary']), diagnostics),
      paramKeys: [...(stage.params ?? [])],
      params: pickParams(params, stage.params ?? []),
      needs: (stage.needs ?? []).map((n, i) => asStageId(str(['needs', i], n))),
      env,
      resources,
      cache: stage.cache ?? true,
      slurm: stage.slurm ?? {},
      stopGraceMs: grace.ok ? grace.ms : DEFAULT_STOP_GRACE_MS,
      stdoutMetrics: pattern.ok ? pattern.pattern : undefined,
      yamlPath: base,
      location: loc([], true),
    };
    if (diagnostics.length > errorsBefore && combos.length > 1) {
      // One instance's errors are enough; the others would repeat them.
      return instances;
    }
    instances.push(instance);
  }
  return instances;
}

function summaryPath(p: string, where: () => Location | undefined, diagnostics: Diagnostic[]): string | undefined {
  const n = normalizeProjectPath(p);
  if (n === undefined) diagnostics.push(diag('path-escape', `summary path '${p}' must be relative and stay inside the project`, where()));
  return n;
}

function expandForeach(
  source: YamlSource,
  base: PathSegment[],
  stage: StageSpec,
  params: Record<string, unknown>,
  diagnostics: Diagnostic[],
): Record<string, unknown>[] | undefined {
  const entries = Object.entries(stage.foreach ?? {});
  let combos: Record<string, unknown>[] = [{}];
  for (const [key, spec] of entries) {
    let values: unknown = spec;
    if (typeof spec === 'string') {
      const r = interpolate(spec, { vars: {}, params });
      if (!r.ok) {
        diagnostics.push(diag(r.error.code, r.error.message, source.locateInScalar([...base, 'foreach', key], r.error.start, r.error.end)));
        return undefined;
      }
      values = r.value;
    }
    if (!Array.isArray(values) || values.length === 0) {
      diagnostics.push(diag('foreach', `foreach '${key}' must give a non-empty list`, source.locate([...base, 'foreach', key])));
      return undefined;
    }
    const next: Record<string, unknown>[] = [];
    for (const c of combos) for (const v of values) next.push({ ...c, [key]: v });
    combos = next;
  }
  return combos;
}

function compileResources(stage: StageSpec, onError: (m: string) => void): Resources {
  const r = stage.resources ?? {};
  let memoryBytes = 0;
  if (r.memory !== undefined) {
    const m = parseMemory(r.memory);
    if (m === undefined) onError(`memory '${r.memory}' is not a size like 2GiB or 512MB`);
    else memoryBytes = m;
  }
  return { cpu: r.cpu ?? 1, memoryBytes, gpu: r.gpu ?? 0, time: r.time };
}

const formatVar = (v: unknown): string => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));

/** A normalised project-relative posix path, or undefined when it is absolute or escapes the project. */
export function normalizeProjectPath(p: string): string | undefined {
  if (p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p)) return undefined;
  const n = posix.normalize(p.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (n === '..' || n.startsWith('../') || n === '' || n === '.') return undefined;
  return n;
}
