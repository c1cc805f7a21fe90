// dvc.yaml's templating, as DVC resolves it: the context is params.yaml (when present) merged with
// the top-level `vars`, then a stage's own `vars`; `foreach`/`do` makes `name@key` stages (a list of
// scalars keys by value, a list with maps or lists by index, a map by its keys; `${item}`, and
// `${key}` for maps), `matrix` makes `name@v1-v2` stages (`${item.axis}`, `${key}`).
import { posix } from 'node:path';
import { diag, type Diagnostic } from '../pipeline/diagnostics.js';
import type { PathSegment, YamlSource } from '../pipeline/yaml-source.js';
import { resolveDeep, resolveString, type Resolved } from './interpolate.js';
import { parseParamsFile } from './params-files.js';
import { isComposite, pyStr } from './values.js';

export interface ResolvedStage {
  /** The stage name DVC gives it: `train`, `train@us`, `train@1-sgd`. */
  name: string;
  group: string;
  /** The resolved fields (integral floats still wrapped). */
  data: Record<string, unknown>;
  /** Where the definition sits in dvc.yaml: `stages.NAME`, or its `do` for foreach. */
  yamlPath: PathSegment[];
  /** Project-relative working directory of the stage ('' for the project root). */
  wdir: string;
}

export interface ResolveInput {
  source: YamlSource;
  raw: Record<string, unknown>;
  /** The context data of params.yaml next to dvc.yaml (overrides applied), when the file exists. */
  defaultParams: Record<string, unknown> | undefined;
  /** Project-relative directory of dvc.yaml. */
  dir: string;
  readFile(projectRelative: string): string | undefined;
}

export function resolveStages(input: ResolveInput, diagnostics: Diagnostic[]): ResolvedStage[] {
  const { source, raw } = input;
  const fail = (path: PathSegment[], message: string, key = false) => diagnostics.push(diag('interpolation', message, source.locate(path, { key })));
  const failAt = (r: Extract<Resolved, { ok: false }>) =>
    diagnostics.push(diag('interpolation', r.error.message, source.locateInScalar(r.error.path, r.error.start, r.error.end)));

  const ctx: Record<string, unknown> = {};
  const imported = new Set<string>();
  if (input.defaultParams) { merge(ctx, input.defaultParams, 'params.yaml', [], fail); imported.add(posix.join(input.dir, 'params.yaml')); }
  const loadVars = (target: Record<string, unknown>, vars: unknown, wdir: string, at: PathSegment[]) => {
    if (vars === undefined) return;
    if (!Array.isArray(vars)) return void fail(at, '`vars` must be a list of files and maps');
    vars.forEach((item, i) => {
      const where = [...at, i];
      if (typeof item === 'string') {
        if (/\$\{/.test(item)) return void fail(where, 'interpolating is not allowed in `vars`');
        const [file, keys] = item.split(':', 2) as [string, string | undefined];
        const path = posix.normalize(posix.join(wdir, file));
        if (imported.has(path) && !keys) return; // the whole file again: allowed, a no-op
        const text = input.readFile(path);
        if (text === undefined) return void fail(where, `'${path}' does not exist`);
        const parsed = parseParamsFile(path, text);
        if (!parsed.ok) return void fail(where, parsed.message);
        let data = parsed.data;
        if (keys) {
          const picked: Record<string, unknown> = {};
          for (const k of keys.split(',').filter(Boolean)) {
            if (!Object.hasOwn(data, k)) return void fail(where, `could not find '${k}' in '${path}'`);
            picked[k] = data[k];
          }
          data = picked;
        }
        imported.add(path);
        merge(target, data, item, where, fail);
      } else if (isComposite(item) && !Array.isArray(item)) {
        merge(target, item, `vars[${i}]`, where, fail);
      } else fail(where, '`vars` entries are file names or maps');
    });
  };
  loadVars(ctx, raw['vars'], input.dir, ['vars']);

  const stages = raw['stages'];
  if (stages === undefined || stages === null) return [];
  if (!isComposite(stages) || Array.isArray(stages)) { fail(['stages'], '`stages` must be a map of stage names to definitions'); return []; }

  const out: ResolvedStage[] = [];
  const entry = (name: string, group: string, template: Record<string, unknown>, at: PathSegment[], scope: Record<string, unknown>) => {
    let def = template;
    // DVC checks these before interpolating, so `${...}` is no boolean there.
    for (const key of ['frozen', 'always_changed']) {
      if (def[key] !== undefined && typeof def[key] !== 'boolean') {
        fail([...at, key], `'${key}' must be true or false (it cannot come from \${...})`);
        def = Object.fromEntries(Object.entries(def).filter(([k]) => k !== key));
      }
    }
    let wdir = input.dir;
    if (def['wdir'] !== undefined) {
      const r = resolveString(String(def['wdir']), scope, 'wdir', [...at, 'wdir']);
      if (!r.ok) return void failAt(r);
      wdir = posix.normalize(posix.join(input.dir, pyStr(r.value)));
      if (wdir === '.') wdir = '';
    }
    let stageCtx = scope;
    if (def['vars'] !== undefined) {
      stageCtx = { ...scope }; // nested maps are copied when merged into
      loadVars(stageCtx, def['vars'], wdir, [...at, 'vars']);
    }
    const data: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(def)) {
      if (key === 'vars') continue;
      const r = resolveDeep(value, stageCtx, key, [...at, key]);
      if (!r.ok) { failAt(r); return; }
      data[key] = r.value;
    }
    out.push({ name, group, data, yamlPath: at, wdir });
  };

  const seen = new Map<string, PathSegment[]>();
  const add = (name: string, at: PathSegment[]) => {
    if (seen.has(name)) { fail(at, `stage '${name}' is generated twice`); return false; }
    seen.set(name, at);
    return true;
  };

  for (const [group, def] of Object.entries(stages)) {
    const at: PathSegment[] = ['stages', group];
    if (!isComposite(def) || Array.isArray(def)) { fail(at, `stage '${group}' must be a map`); continue; }
    if (/[@:,]/.test(group)) { fail(at, `stage name '${group}' may not contain '@', ':' or ','`, true); continue; }
    if ('matrix' in def) {
      if ('foreach' in def || 'do' in def) { fail(at, `stage '${group}': 'matrix' cannot be combined with 'foreach'/'do'`, true); continue; }
      const r = resolveDeep(def['matrix'], ctx, 'matrix', [...at, 'matrix']);
      if (!r.ok) { failAt(r); continue; }
      const axes = r.value;
      if (!isComposite(axes) || Array.isArray(axes)) { fail([...at, 'matrix'], '`matrix` must map names to lists'); continue; }
      const lists = Object.entries(axes);
      const bad = lists.find(([, v]) => !Array.isArray(v) || v.length === 0);
      if (bad) { fail([...at, 'matrix', bad[0]], `matrix '${bad[0]}' must be a non-empty list`); continue; }
      const { matrix: _m, ...template } = def;
      for (const combo of product(lists as [string, unknown[]][])) {
        const key = combo.map(([k, i, v]) => (isComposite(v) ? `${k}${i}` : pyStr(v))).join('-');
        const item = Object.fromEntries(combo.map(([k, , v]) => [k, v]));
        const name = `${group}@${key}`;
        if (add(name, at)) entry(name, group, template, at, { ...ctx, key, item });
      }
    } else if ('foreach' in def) {
      if (!('do' in def)) { fail(at, `stage '${group}': 'foreach' needs 'do'`, true); continue; }
      const extra = Object.keys(def).filter((k) => k !== 'foreach' && k !== 'do');
      if (extra.length) { fail([...at, extra[0]!], `stage '${group}': only 'foreach' and 'do' belong at this level ('${extra[0]}' goes inside 'do')`, true); continue; }
      const r = resolveDeep(def['foreach'], ctx, 'foreach', [...at, 'foreach']);
      if (!r.ok) { failAt(r); continue; }
      const iterable = r.value;
      if (!isComposite(iterable)) { fail([...at, 'foreach'], 'foreach: expected a list or a map'); continue; }
      const body = def['do'];
      if (!isComposite(body) || Array.isArray(body)) { fail([...at, 'do'], '`do` must be a stage definition (a map)'); continue; }
      let items: [string, unknown][];
      if (Array.isArray(iterable)) {
        items = iterable.some(isComposite) ? iterable.map((v, i) => [String(i), v]) : iterable.map((v) => [pyStr(v), v]);
      } else items = Object.entries(iterable);
      for (const [key, item] of items) {
        const name = `${group}@${key}`;
        if (add(name, [...at, 'do'])) entry(name, group, body, [...at, 'do'], Array.isArray(iterable) ? { ...ctx, item } : { ...ctx, key, item });
      }
    } else if ('do' in def) {
      fail([...at, 'do'], `stage '${group}': 'do' needs 'foreach'`, true);
    } else if (add(group, at)) entry(group, group, def, at, ctx);
  }
  return out;
}

function product(lists: [string, unknown[]][]): [string, number, unknown][][] {
  let combos: [string, number, unknown][][] = [[]];
  for (const [k, values] of lists) combos = combos.flatMap((c) => values.map((v, i) => [...c, [k, i, v] as [string, number, unknown]]));
  return combos;
}

/** Merges `src` into `target`; maps merge key by key, any other value defined twice is an error (as in DVC). */
function merge(target: Record<string, unknown>, src: Record<string, unknown>, from: string, at: PathSegment[], fail: (p: PathSegment[], m: string) => void, prefix = '') {
  for (const [k, v] of Object.entries(src)) {
    const cur = target[k];
    if (cur === undefined) target[k] = v;
    else if (isComposite(cur) && !Array.isArray(cur) && isComposite(v) && !Array.isArray(v)) {
      const copy = { ...cur };
      target[k] = copy;
      merge(copy, v, from, at, fail, `${prefix}${k}.`);
    } else fail(at, `cannot redefine '${prefix}${k}' from '${from}': it is already defined`);
  }
}
