// Spec text -> compiled pipeline, collecting every independent error in one pass: schema, names,
// params, interpolation, paths, references, output conflicts, cycles and missing inputs. A check
// that an earlier error makes meaningless is skipped and named in `skipped`. Pure apart from the
// injected `fileExists`/`pathExists` (is a `run:` module there; is a `deps` path there).
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { asDigest, type StageId } from '../core/brand.js';
import { compileStage, normalizeProjectPath } from './compile-stage.js';
import { diag, hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { buildEdges, OutIndex } from './graph.js';
import { lookupPath } from './interpolate.js';
import { outputPaths, type Pipeline, type StageInstance } from './model.js';
import { applyOverrides, type Override } from './params.js';
import { PIPELINE_NAME, PipelineSchema, STAGE_NAME, type PipelineSpec } from './schema.js';
import { schemaDiagnostics, type SchemaHint } from './schema-diagnostics.js';
import { compileHeadline } from './headline.js';
import { YamlSource, type PathSegment } from './yaml-source.js';

export { normalizeProjectPath };

export interface CompileInput {
  /** The path shown in diagnostics (relative to the project). */
  file: string;
  text: string;
  overrides?: readonly Override[];
  /** Named param sets from the spec's `profiles`, applied in order before `overrides`. */
  profiles?: readonly string[];
  fileExists?: (projectRelative: string) => boolean;
  /** Whether a file or directory exists: a `deps` path that is missing and that no stage writes is an error. */
  pathExists?: (projectRelative: string) => boolean;
}

export interface CompileResult {
  pipeline: Pipeline | undefined;
  diagnostics: Diagnostic[];
  /** Checks not made because an earlier error made them meaningless (said in the summary). */
  skipped: string[];
  source: YamlSource;
}

/** `pipelines/paper.yaml` -> `paper`: the name of a pipeline that gives none. */
export const defaultName = (file: string) => basename(file).replace(/\.ya?ml$/i, '');

export function compilePipeline(input: CompileInput): CompileResult {
  const { source, diagnostics } = YamlSource.parse(input.file, input.text);
  const skipped: string[] = [];
  const done = (pipeline?: Pipeline): CompileResult => ({ pipeline, diagnostics: sortDiagnostics(diagnostics), skipped, source });
  const unparsed = () => { skipped.push('everything else in the file (it must parse first)'); return done(); };
  if (hasErrors(diagnostics)) return unparsed();
  const js = source.toJS();
  if (!js.ok) { diagnostics.push(js.diagnostic); return unparsed(); }
  const raw = js.value;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    diagnostics.push(diag('schema', 'a pipeline file must be a map with `stages` (and optionally `name`, `params`)', source.locate([])));
    return done();
  }

  // Schema errors mark the part they are in; the rest is still checked.
  const invalid = new Set<string>();
  diagnostics.push(...specDiagnostics(source, raw, (path) => invalid.add(path[0] === 'stages' && path.length > 1 ? `stages.${path[1]}` : String(path[0] ?? ''))));
  const spec = raw as PipelineSpec;
  const name = spec.name ?? defaultName(input.file);
  if (spec.name === undefined && !PIPELINE_NAME.test(name)) {
    diagnostics.push(diag('name', `the pipeline is named after its file, '${name}', which is not a valid name: add \`name:\` with letters, digits, '_', '.' and '-' (first a letter or digit)`, source.locate([])));
  }
  if (invalid.has('params') || invalid.has('profiles') || invalid.has('stages') || invalid.has('')) {
    skipped.push(invalid.has('stages') || invalid.has('') ? 'the stages (fix the file\'s shape first)' : 'the stages (they read the params, which have errors)');
    return done();
  }

  const profileOverrides: Override[] = [];
  for (const [pname, set] of Object.entries(spec.profiles ?? {})) {
    for (const key of Object.keys(set)) {
      if (!lookupPath(spec.params ?? {}, key.split('.')).found) {
        diagnostics.push(diag('unknown-param', `unknown param '${key}' in profile '${pname}'`, source.locate(['profiles', pname, key], { key: true })));
      }
    }
  }
  for (const pname of input.profiles ?? []) {
    const set = spec.profiles?.[pname];
    if (!set) {
      const known = Object.keys(spec.profiles ?? {});
      diagnostics.push(diag('override', `unknown profile '${pname}' (${known.length ? `profiles: ${known.join(', ')}` : 'the pipeline declares no profiles'})`, undefined));
      continue;
    }
    for (const [key, value] of Object.entries(set)) profileOverrides.push({ path: key.split('.'), value, add: false, raw: `${key} (profile ${pname})` });
  }
  const { params, errors } = applyOverrides(spec.params ?? {}, [...profileOverrides, ...(input.overrides ?? [])]);
  for (const message of errors) diagnostics.push(diag('override', message, undefined));

  const names = Object.keys(spec.stages);
  if (!names.length) diagnostics.push(diag('empty', "the pipeline has no stages: add at least one under 'stages:'", source.locate(['stages'], { key: true })));
  const stages: StageInstance[] = [];
  const unsound = new Set<string>(); // stages with errors of their own: later checks would only guess
  for (const sname of names) {
    if (invalid.has(`stages.${sname}`)) {
      unsound.add(sname);
      skipped.push(`stage '${sname}' beyond its schema errors`);
      continue;
    }
    const before = diagnostics.length;
    // One by one: spreading 10^5 instances into push overflows the stack.
    for (const s of compileStage({ source, params, fileExists: input.fileExists, diagnostics }, sname, spec.stages[sname]!)) stages.push(s);
    if (diagnostics.length > before) unsound.add(sname);
  }

  resolveNeeds(source, stages, new Set(names), diagnostics);
  diagnostics.push(...selfOverlaps(source, stages));
  const graph = buildEdges(stages, source);
  diagnostics.push(...graph.diagnostics);
  if (input.pathExists) {
    const missing = missingDeps(source, stages, input.pathExists);
    // A stage with errors of its own may be the one meant to write them: say so rather than guess.
    if (!unsound.size) diagnostics.push(...missing);
    else if (missing.length) skipped.push(`whether a stage writes ${missing.map((d) => `'${d.path}'`).join(', ')} (a stage with errors may be the one)`);
  }
  if (hasErrors(diagnostics) || !graph.order) return done();
  const headline = compileHeadline(source, spec.summary, stages, graph.upstream, diagnostics);
  if (hasErrors(diagnostics)) return done();

  const byId = new Map(stages.map((s) => [s.id, s] as const));
  return done({
    name,
    description: spec.description,
    file: input.file,
    specText: input.text,
    specDigest: asDigest(createHash('sha256').update(input.text).digest('hex')),
    source,
    params,
    stages: graph.order.map((id) => byId.get(id)!),
    upstream: graph.upstream,
    tracking: { uri: spec.tracking?.uri, experiment: spec.tracking?.experiment },
    headline,
    executor: spec.executor ?? 'local',
    remote: spec.remote,
    slurm: spec.slurm ?? {},
  });
}

/** Turns `needs` names into stage ids (a foreach stage's name means all its instances). */
function resolveNeeds(source: YamlSource, stages: StageInstance[], declared: ReadonlySet<string>, diagnostics: Diagnostic[]): void {
  if (!stages.some((s) => s.needs.length)) return; // nothing to resolve: skip indexing 10^5 ids
  const ids = new Set(stages.map((s) => s.id));
  const byName = new Map<string, StageId[]>();
  for (const s of stages) {
    // Appended in place: copying would be O(n^2) for a foreach of 10^4 instances.
    const list = byName.get(s.name);
    if (list) list.push(s.id); else byName.set(s.name, [s.id]);
  }
  const reported = new Set<string>();
  for (const s of stages) {
    if (!s.needs.length) continue;
    const resolved: StageId[] = [];
    s.needs.forEach((n, i) => {
      const at = [...s.yamlPath, 'needs', i];
      const once = (key: string, d: () => Diagnostic) => { if (!reported.has(key)) { reported.add(key); diagnostics.push(d()); } };
      if (n === s.id || n === s.name) {
        once(`self ${s.name} ${i}`, () => diag('needs-self', `stage '${s.name}' needs itself: a stage runs after the ones it needs`, source.locate(at)));
        return;
      }
      const targets = ids.has(n) ? [n] : byName.get(n);
      if (targets) resolved.push(...targets);
      else if (!declared.has(n)) once(`unknown ${s.name} ${i}`, () => diag('unknown-needs', `unknown stage '${n}' in needs of '${s.id}'`, source.locate(at)));
    });
    s.needs = resolved;
  }
}

/** A stage whose deps hold (or are inside, or contain) its own outputs would read what it writes. */
function selfOverlaps(source: YamlSource, stages: readonly StageInstance[]): Diagnostic[] {
  const out = new Map<string, Diagnostic>();
  for (const s of stages) {
    const overlapping = (o: string, dep: string) => dep === o || dep.startsWith(o + '/') || o.startsWith(dep + '/');
    s.deps.forEach((dep, i) => {
      // The sorted output list only for a dep that overlaps one (rare: it is an error).
      if (!s.outs.some((o) => overlapping(o, dep)) && !s.metrics.some((o) => overlapping(o, dep))) return;
      const own = outputPaths(s).find((o) => overlapping(o, dep))!;
      const field = s.outs.includes(own) ? 'outs' : 'metrics';
      const location = source.locate([...s.yamlPath, 'deps', i]);
      const what = dep === own ? `deps path '${dep}' is also an output` : `deps path '${dep}' overlaps the output '${own}'`;
      out.set(`${location.range.start.line}:${location.range.start.col}`, diag('dep-is-out', `${what} of stage '${s.name}': a stage cannot depend on what it writes`, location,
        [{ message: `'${s.name}' writes '${own}' here`, location: source.locate([...s.yamlPath, field, (field === 'outs' ? s.outs : s.metrics).indexOf(own)]) }]));
    });
  }
  return [...out.values()];
}

/** A `deps` path that is not there and that no stage writes: the stage could only fail (DVC refuses it too). */
function missingDeps(source: YamlSource, stages: readonly StageInstance[], pathExists: (p: string) => boolean): (Diagnostic & { path: string })[] {
  const index = new OutIndex(stages);
  const out = new Map<string, Diagnostic & { path: string }>();
  for (const s of stages) {
    s.deps.forEach((dep, i) => {
      if (index.related(dep).length || pathExists(dep)) return;
      const location = source.locate([...s.yamlPath, 'deps', i]);
      out.set(`${location.range.start.line}:${location.range.start.col}`, { ...diag('missing-dep', `deps path '${dep}' does not exist and no stage writes it`, location), path: dep });
    });
  }
  return [...out.values()];
}

const CMD_SHAPES = 'a list such as [python, train.py, --epochs, 10], or one shell command string such as "python train.py --lr ${fit.lr}"';

const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a map' : `a ${typeof v}`);

/** Messages for the shapes users get wrong, saying what to write instead. */
const pipelineHint: SchemaHint = (path, value) => {
  if (path.length === 1 && path[0] === 'name' && typeof value === 'string') {
    return { message: `name '${value}' must start with a letter or digit and hold only letters, digits, '_', '.' and '-'` };
  }
  if (path.length === 3 && path[0] === 'stages' && path[2] === 'cmd') {
    if (Array.isArray(value)) {
      const i = value.findIndex((a) => a === null || typeof a === 'object');
      if (i >= 0) {
        return {
          path: [...path, i],
          message: `cmd item ${i + 1} is ${kind(value[i])}: each item is a string, number or boolean (quote an item that holds ': ' or starts with '{' or '[')`,
        };
      }
      if (value.length === 0) return { message: `cmd is empty: write ${CMD_SHAPES}` };
    }
    return { message: `cmd is ${kind(value)}: write ${CMD_SHAPES}` };
  }
  return undefined;
};

function specDiagnostics(source: YamlSource, raw: object, onPath: (path: PathSegment[]) => void): Diagnostic[] {
  const out = schemaDiagnostics(PipelineSchema, source, raw, pipelineHint, onPath);
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
