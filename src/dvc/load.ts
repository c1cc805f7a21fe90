// dvc.yaml (+ its params files) -> massflow's compiled pipeline, every problem a diagnostic located
// in dvc.yaml. Pure apart from the injected file reader. `-p` overrides change params.yaml's values:
// for `${...}`, for the fingerprints, and (through `runFiles`) in the file the commands read.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { isAlias, isScalar, parseDocument, visit } from 'yaml';
import { asDigest } from '../core/brand.js';
import { diag, hasErrors, sortDiagnostics, type Diagnostic } from '../pipeline/diagnostics.js';
import type { Pipeline, StageInstance } from '../pipeline/model.js';
import { applyOverrides, type Override } from '../pipeline/params.js';
import { YamlSource, type PathSegment } from '../pipeline/yaml-source.js';
import { buildEdges } from '../pipeline/graph.js';
import { parseParamsFile } from './params-files.js';
import { resolveStages, type ResolvedStage } from './resolve.js';
import { translateStage } from './stage.js';
import { contextValue, isComposite, plain } from './values.js';

export interface DvcLoadInput {
  /** dvc.yaml's path relative to the project (shown in diagnostics). */
  file: string;
  text: string;
  /** The pipeline's name (the project directory's, DVC pipelines have none). */
  name: string;
  overrides?: readonly Override[];
  readFile(projectRelative: string): string | undefined;
}

export interface DvcLoadResult {
  pipeline: Pipeline | undefined;
  diagnostics: Diagnostic[];
  skipped: string[];
  source: YamlSource;
  /** The stages as DVC resolved them (foreach and matrix expanded, `${...}` substituted). */
  resolved: ResolvedStage[];
}

const TOP_FIELDS = new Set(['stages', 'vars']);
/** Top-level sections DVC uses for `dvc metrics/plots/params show`, Studio and the model registry. */
const IGNORED_TOP = new Set(['params', 'metrics', 'plots', 'artifacts', 'datasets']);

export { isDvcFile } from './file.js';

export function loadDvcPipeline(input: DvcLoadInput): DvcLoadResult {
  const { source, diagnostics } = YamlSource.parse(input.file, input.text);
  let resolved: ResolvedStage[] = [];
  const done = (pipeline?: Pipeline): DvcLoadResult => ({ pipeline, diagnostics: sortDiagnostics(diagnostics), skipped: [], source, resolved });
  if (hasErrors(diagnostics)) return done();
  let raw: unknown;
  if (hasAliases(source)) {
    const js = source.toJS();
    if (!js.ok) { diagnostics.push(js.diagnostic); return done(); }
    raw = js.value;
  } else raw = contextValue(source.doc?.contents);
  if (raw === null || raw === undefined) {
    diagnostics.push(diag('dvc', 'dvc.yaml defines no stages', source.locate([])));
    return done();
  }
  if (!isComposite(raw) || Array.isArray(raw)) {
    diagnostics.push(diag('dvc', 'dvc.yaml must be a map with `stages`', source.locate([])));
    return done();
  }
  const ignored = new Map<string, PathSegment[]>();
  for (const key of Object.keys(raw)) {
    if (IGNORED_TOP.has(key)) ignored.set(key, [key]);
    else if (!TOP_FIELDS.has(key)) diagnostics.push(diag('dvc', `unknown top-level field '${key}' (dvc.yaml has ${[...TOP_FIELDS, ...IGNORED_TOP].join(', ')})`, source.locate([key], { key: true })));
  }

  const dir = posix.dirname(input.file) === '.' ? '' : posix.dirname(input.file);
  const rootParamsPath = posix.join(dir, 'params.yaml');
  const paramsText = input.readFile(rootParamsPath);
  let params: Record<string, unknown> = {};
  let context: Record<string, unknown> | undefined;
  let runFiles: Pipeline['runFiles'];
  if (paramsText !== undefined) {
    const parsed = parseParamsFile(rootParamsPath, paramsText);
    if (!parsed.ok) diagnostics.push(diag('dvc', parsed.message, undefined));
    else {
      context = parsed.data;
      params = plain(parsed.data) as Record<string, unknown>;
    }
  }
  if (input.overrides?.length) {
    const r = applyOverrides(params, input.overrides);
    for (const message of r.errors) diagnostics.push(diag('override', message, undefined));
    params = r.params;
    context = overriddenContext(context ?? {}, input.overrides);
    runFiles = [{ path: rootParamsPath, text: withOverrides(paramsText ?? '', input.overrides) }];
  }
  if (hasErrors(diagnostics)) return done();

  resolved = resolveStages({ source, raw, defaultParams: context, dir, readFile: input.readFile }, diagnostics);
  const stages: StageInstance[] = [];
  for (const r of resolved) {
    const s = translateStage(r, { source, rootParams: paramsText !== undefined ? params : undefined, rootParamsPath, readFile: input.readFile, diagnostics, ignored });
    if (s) stages.push(s);
  }
  if (ignored.size) {
    const [first] = ignored.values();
    diagnostics.push(diag('dvc', `ignored (massflow has no use for them): ${[...ignored.keys()].join(', ')}`, source.locate(first!, { key: true }), [], 'warning'));
  }
  if (hasErrors(diagnostics)) return done();

  const graph = buildEdges(stages, source);
  diagnostics.push(...graph.diagnostics);
  if (hasErrors(diagnostics) || !graph.order) return done();
  // DVC disconnects a frozen stage from its deps: what it needs is not brought up to date through it.
  for (const s of stages) if (s.frozen) graph.upstream.set(s.id, []);

  const byId = new Map(stages.map((s) => [s.id, s] as const));
  return done({
    name: input.name,
    file: input.file,
    specText: input.text,
    source,
    specDigest: asDigest(createHash('sha256').update(input.text).update('\0').update(paramsText ?? '').digest('hex')),
    params,
    stages: graph.order.map((id) => byId.get(id)!),
    upstream: graph.upstream,
    tracking: {},
    // DVC shows metrics with `dvc metrics show`; a run's summary table has none to name.
    headline: [],
    executor: 'local',
    slurm: {},
    ...(runFiles ? { runFiles } : {}),
  });
}

function hasAliases(source: YamlSource): boolean {
  let found = false;
  if (!source.doc) return false;
  visit(source.doc, { Alias() { found = true; return visit.BREAK; } });
  return found || isAlias(source.doc.contents);
}

const overrideText = (o: Override) => o.raw.slice(o.raw.indexOf('=') + 1);

/** The interpolation context with overrides set, each value read as YAML keeps `1.0` a float. */
function overriddenContext(ctx: Record<string, unknown>, overrides: readonly Override[]): Record<string, unknown> {
  const out = { ...ctx };
  for (const o of overrides) {
    let cur = out;
    for (const seg of o.path.slice(0, -1)) {
      const next = cur[seg];
      cur = cur[seg] = isComposite(next) && !Array.isArray(next) ? { ...next } : {};
    }
    cur[o.path[o.path.length - 1]!] = contextValue(parseDocument(overrideText(o)).contents);
  }
  return out;
}

/** params.yaml with the overrides written in, comments and layout kept. */
function withOverrides(text: string, overrides: readonly Override[]): string {
  const doc = parseDocument(text);
  if (!doc.contents) doc.contents = doc.createNode({}) as never;
  for (const o of overrides) {
    const value = parseDocument(overrideText(o)).contents;
    const node = doc.getIn(o.path, true);
    // A scalar keeps its comment when only its value changes.
    if (isScalar(node) && isScalar(value)) Object.assign(node, { value: value.value, format: value.format, minFractionDigits: value.minFractionDigits, type: value.type });
    else doc.setIn(o.path, value);
  }
  return doc.toString();
}

/**
 * The pipeline for a sweep: trials share stages by fingerprint before anything runs, so a stage's
 * produced deps must enter through the upstream stage's fingerprint, not through bytes the project's
 * workspace happens to hold.
 */
export function chainedDeps(p: Pipeline): Pipeline {
  return { ...p, stages: p.stages.map((s) => ({ ...s, depsByContent: false })) };
}
