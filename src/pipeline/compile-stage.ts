// One stage declaration -> its instances (one per foreach combination), with paths normalised,
// `${...}` interpolated and the command shaped; every mistake is collected, none thrown.
import { posix } from 'node:path';
import { asStageId } from '../core/brand.js';
import { diag, type Diagnostic, type Location } from './diagnostics.js';
import { hasInterpolation, interpolate, lookupPath, type Scope } from './interpolate.js';
import type { Resources, StageInstance } from './model.js';
import { pickParams } from './params.js';
import type { StageSpec } from './schema.js';
import { didYouMean } from './schema-diagnostics.js';
import { interpolateShell } from './shell.js';
import { DEFAULT_STOP_GRACE_MS, parseStopGrace, stdoutMetricsPattern } from './stage-options.js';
import { parseMemory } from './units.js';
import type { PathSegment, YamlSource } from './yaml-source.js';

export interface StageContext {
  source: YamlSource;
  params: Record<string, unknown>;
  fileExists: ((projectRelative: string) => boolean) | undefined;
  diagnostics: Diagnostic[];
}

export function compileStage(cx: StageContext, name: string, stage: StageSpec): StageInstance[] {
  const { source, params, diagnostics } = cx;
  const base: PathSegment[] = ['stages', name];
  const loc = (p: PathSegment[], key = false) => source.locate([...base, ...p], { key });
  if ((stage.run === undefined) === (stage.cmd === undefined)) {
    diagnostics.push(diag('run-or-cmd', `stage '${name}' needs exactly one of 'run' (a TS module) or 'cmd' (a program and its arguments, or a shell command string)`, loc([], true)));
    return [];
  }
  if (typeof stage.cmd === 'string' && stage.shell === false) {
    diagnostics.push(diag('cmd', "a cmd string always runs through /bin/sh: drop 'shell: false', or write cmd as a list to run the program without a shell", loc(['shell'])));
  }
  (stage.params ?? []).forEach((key, i) => {
    if (!lookupPath(params, key.split('.')).found) {
      diagnostics.push(diag('unknown-param', `unknown param '${key}' in stage '${name}'${didYouMean(key, params)}`, loc(['params', i])));
    }
  });

  const combos = expandForeach(cx, base, stage);
  if (!combos) return [];
  const instances: StageInstance[] = [];
  const location = loc([], true); // the declaration's, shared by its instances
  // What no `${...}` reaches is checked once per declaration and shared by its instances; its
  // errors count as the first instance's, as when each instance checked it.
  const declarationErrors = diagnostics.length;
  const resources = compileResources(stage, (m) => diagnostics.push(diag('schema', m, loc(['resources', 'memory']))));
  const grace = parseStopGrace(stage.stop_grace);
  if (!grace.ok) diagnostics.push(diag('schema', grace.message, loc(['stop_grace'])));
  const pattern = stdoutMetricsPattern(stage.stdout_metrics);
  if (!pattern.ok) diagnostics.push(diag('schema', pattern.message, loc(['stdout_metrics'])));
  const declarationFailed = diagnostics.length > declarationErrors;
  const ids = new Set<string>();
  for (const vars of combos) {
    const scope: Scope = { vars, params };
    const errorsBefore = diagnostics.length;
    const located = (path: PathSegment[], e: { code: 'interpolation' | 'unknown-param'; message: string; start: number; end: number }) =>
      diagnostics.push(diag(e.code, e.message, source.locateInScalar([...base, ...path], e.start, e.end)));
    const str = (path: PathSegment[], value: string): string => {
      if (!hasInterpolation(value)) return value;
      const r = interpolate(value, scope);
      if (!r.ok) { located(path, r.error); return value; }
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
        return n ?? v; // kept, so a path's index still points at its place in the file
      });
    let impl: StageInstance['impl'];
    if (stage.run !== undefined) {
      impl = { kind: 'ts', module: normalizeProjectPath(str(['run'], stage.run)) ?? stage.run };
      if (normalizeProjectPath(impl.module) === undefined) diagnostics.push(diag('path-escape', `run module '${impl.module}' must be inside the project`, loc(['run'])));
      else if (cx.fileExists && !cx.fileExists(impl.module)) diagnostics.push(diag('file', `stage module '${impl.module}' does not exist`, loc(['run'])));
    } else if (typeof stage.cmd === 'string') {
      const r = interpolateShell(stage.cmd, scope);
      if (!r.ok) located(['cmd'], r.error);
      impl = { kind: 'cmd', argv: [r.ok ? r.value : stage.cmd], shell: true };
    } else {
      // Numbers and booleans pass as written: `1.0e-3` stays `1.0e-3`, `10` stays `10`.
      const argv = stage.cmd!.map((a, i) => (typeof a === 'string' ? str(['cmd', i], a) : source.scalarSource([...base, 'cmd', i]) ?? String(a)));
      impl = { kind: 'cmd', argv, shell: stage.shell ?? false };
    }
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(stage.env ?? {})) env[k] = str(['env', k], v);
    const id = asStageId(Object.keys(vars).length ? `${name}@${Object.entries(vars).map(([k, v]) => `${k}=${formatVar(v)}`).join(',')}` : name);
    // An id names one instance everywhere (cache state, runs, the graph): two alike would be one.
    if (ids.has(id)) diagnostics.push(diag('foreach', `foreach gives the instance '${id}' twice: its values must differ`, loc(['foreach'])));
    ids.add(id);
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
      location,
    };
    if ((diagnostics.length > errorsBefore || declarationFailed) && combos.length > 1) {
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

function expandForeach(cx: StageContext, base: PathSegment[], stage: StageSpec): Record<string, unknown>[] | undefined {
  const { source, params, diagnostics } = cx;
  let combos: Record<string, unknown>[] = [{}];
  for (const [key, spec] of Object.entries(stage.foreach ?? {})) {
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

/** Relative '/'-separated names, none empty, '.' or '..', no backslash, no drive: normal already. */
const NORMAL_PATH = /^(?![A-Za-z]:\/)(?:(?!\.\.?\/)[^/\\]+\/)*(?!\.\.?$)[^/\\]+$/;

/** A normalised project-relative posix path, or undefined when it is absolute or escapes the project. */
export function normalizeProjectPath(p: string): string | undefined {
  if (NORMAL_PATH.test(p)) return p; // most paths, 10^5 of them for a large foreach
  if (p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p)) return undefined;
  const n = posix.normalize(p.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (n === '..' || n.startsWith('../') || n === '' || n === '.') return undefined;
  return n;
}
