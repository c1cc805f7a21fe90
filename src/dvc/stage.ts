// One resolved dvc.yaml stage -> a massflow stage instance with DVC's meaning: the command runs
// through the user's shell in `wdir`, paths are relative to `wdir`, params are the values of the
// named keys in their files, and a stage's deps count by content.
import { posix } from 'node:path';
import { DEFAULT_STOP_GRACE_MS } from '../pipeline/stage-options.js';
import { asStageId } from '../core/brand.js';
import { normalizeProjectPath } from '../pipeline/compile.js';
import { diag, type Diagnostic } from '../pipeline/diagnostics.js';
import type { StageInstance } from '../pipeline/model.js';
import type { PathSegment, YamlSource } from '../pipeline/yaml-source.js';
import { parseParamsFile, selectKey } from './params-files.js';
import type { ResolvedStage } from './resolve.js';
import { isComposite, plain } from './values.js';

/** Stage fields DVC defines that change nothing in how massflow runs a stage. */
export const IGNORED_STAGE_FIELDS = new Set(['desc', 'meta']);
const STAGE_FIELDS = new Set(['cmd', 'wdir', 'deps', 'params', 'outs', 'metrics', 'plots', 'frozen', 'always_changed', ...IGNORED_STAGE_FIELDS]);
/** Output flags DVC defines for its remotes, Studio and plot rendering. */
export const IGNORED_OUT_FIELDS = new Set(['remote', 'push', 'desc', 'type', 'labels', 'meta', 'x', 'y', 'x_label', 'y_label', 'title', 'template', 'header']);

export interface StageContext {
  source: YamlSource;
  /** The root params.yaml's data with overrides applied (plain values). */
  rootParams: Record<string, unknown> | undefined;
  rootParamsPath: string;
  readFile(projectRelative: string): string | undefined;
  diagnostics: Diagnostic[];
  /** DVC fields massflow ignores, with where each was first seen. */
  ignored: Map<string, PathSegment[]>;
}

export interface OutSpec { path: string; cache: boolean; persist: boolean; kind: 'outs' | 'metrics' | 'plots' }

export function translateStage(r: ResolvedStage, c: StageContext): StageInstance | undefined {
  const { source, diagnostics } = c;
  const at = (p: PathSegment[], key = false) => source.locate([...r.yamlPath, ...p], { key });
  const before = diagnostics.length;
  const error = (p: PathSegment[], message: string, key = false) => diagnostics.push(diag('dvc', message, at(p, key)));
  const d = r.data;

  for (const key of Object.keys(d)) {
    if (IGNORED_STAGE_FIELDS.has(key)) { if (!c.ignored.has(key)) c.ignored.set(key, [...r.yamlPath, key]); }
    else if (!STAGE_FIELDS.has(key)) error([key], `unknown field '${key}' in stage '${r.group}' (DVC stage fields: ${[...STAGE_FIELDS].join(', ')})`, true);
  }

  const commands = commandList(d['cmd']);
  if (!commands) error(d['cmd'] === undefined ? [] : ['cmd'], `stage '${r.name}' needs 'cmd': a command, or a list of commands`, d['cmd'] === undefined);

  const path = (p: unknown, where: PathSegment[]): string | undefined => {
    if (typeof p !== 'string' || p === '') return void error(where, 'expected a path');
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p)) return void error(where, `'${p}' is not a local path: massflow tracks files in the project only (no external or remote deps and outs)`);
    const n = normalizeProjectPath(posix.join(r.wdir, p));
    if (n === undefined) return void error(where, `'${p}' leaves the project: massflow tracks files in the project only`);
    return n;
  };

  const deps: string[] = [];
  listField(d, 'deps', error).forEach((p, i) => { const n = path(p, ['deps', i]); if (n) deps.push(n); });

  const outs: OutSpec[] = [];
  for (const kind of ['outs', 'metrics', 'plots'] as const) {
    listField(d, kind, error).forEach((entry, i) => {
      let p: unknown = entry, opts: Record<string, unknown> = {};
      if (isComposite(entry) && !Array.isArray(entry)) {
        const keys = Object.keys(entry);
        if (keys.length !== 1) return void error([kind, i], `an entry of '${kind}' is a path or one 'path: {options}' pair`);
        p = keys[0];
        const o = entry[keys[0]!];
        if (o !== null && (!isComposite(o) || Array.isArray(o))) return void error([kind, i, keys[0]!], 'output options must be a map');
        opts = (o ?? {}) as Record<string, unknown>;
      }
      const n = path(p, [kind, i]);
      for (const [k, v] of Object.entries(opts)) {
        if (IGNORED_OUT_FIELDS.has(k)) { if (!c.ignored.has(k)) c.ignored.set(k, [...r.yamlPath, kind, i, String(p), k]); }
        else if (k !== 'cache' && k !== 'persist') error([kind, i, String(p), k], `unknown output option '${k}' (DVC output options: cache, persist, ${[...IGNORED_OUT_FIELDS].join(', ')})`, true);
        else if (typeof v !== 'boolean') error([kind, i, String(p), k], `'${k}' must be true or false`);
      }
      if (n) outs.push({ path: n, cache: opts['cache'] !== false, persist: opts['persist'] === true, kind });
    });
  }

  const params = stageParams(r, d['params'], c, error);
  const frozen = boolField(d, 'frozen', error);
  const always = boolField(d, 'always_changed', error);
  if (diagnostics.length > before || !commands || !params) return undefined;

  // DVC's run cache (which restores outputs without running) leaves these stages out.
  const hasDeps = deps.length > 0 || params.files > 0;
  const lastRunOnly = !hasDeps || outs.length === 0 || always || outs.some((o) => o.persist || (!o.cache && o.kind === 'outs'));
  return {
    id: asStageId(r.name),
    name: r.group,
    vars: {},
    impl: { kind: 'cmd', argv: shellArgv(r.name, r.wdir, commands), shell: false },
    deps,
    outs: outs.map((o) => o.path),
    metrics: [],
    summary: undefined,
    paramKeys: params.keys,
    params: params.values,
    needs: [],
    env: {},
    resources: { cpu: 1, memoryBytes: 0, gpu: 0, time: undefined },
    // A command with neither deps nor outs, or `always_changed`, runs every time.
    cache: !(always || (!hasDeps && outs.length === 0)),
    slurm: {},
    // DVC has neither a stop grace nor stdout metrics: massflow's defaults.
    stopGraceMs: DEFAULT_STOP_GRACE_MS,
    stdoutMetrics: undefined,
    yamlPath: r.yamlPath,
    location: at([], true),
    depsByContent: true,
    restore: lastRunOnly ? 'last-run' : 'any',
    persist: outs.filter((o) => o.persist).map((o) => o.path),
    frozen,
  };
}

function commandList(cmd: unknown): string[] | undefined {
  // A multi-line string is one command per line, as DVC runs it.
  if (typeof cmd === 'string' && cmd.trim()) return cmd.split(/\r?\n/).filter((l) => l.trim());
  if (Array.isArray(cmd) && cmd.length && cmd.every((c) => typeof c === 'string' && c.trim())) return cmd as string[];
  return undefined;
}

/**
 * Runs a stage's commands as DVC does: each through `$SHELL -c` (bash and zsh without their rc
 * files), in the stage's wdir, stopping at the first failure, with DVC_ROOT and DVC_STAGE set. The
 * shell is looked up when the stage runs, so the fingerprint does not depend on the user's shell.
 * Arguments: $0 the stage name, $1 the wdir, then the commands.
 */
const RUNNER = [
  'export DVC_ROOT="$PWD" DVC_STAGE="$0"; cd "$1" || exit 1; shift',
  's="${SHELL:-/bin/sh}"; case "${s##*/}" in bash) f="--noprofile --norc";; zsh) f=--no-rcs;; *) f=;; esac',
  'for c in "$@"; do "$s" $f -c "$c" || exit $?; done',
].join('\n');

export const shellArgv = (name: string, wdir: string, commands: readonly string[]): string[] => ['/bin/sh', '-c', RUNNER, name, wdir || '.', ...commands];

function listField(d: Record<string, unknown>, key: string, error: (p: PathSegment[], m: string) => void): unknown[] {
  const v = d[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) { error([key], `'${key}' must be a list`); return []; }
  return v;
}

function boolField(d: Record<string, unknown>, key: string, error: (p: PathSegment[], m: string) => void): boolean {
  const v = d[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') { error([key], `'${key}' must be true or false`); return false; }
  return v;
}

/**
 * `params:` as DVC reads it: a key names a value in params.yaml (next to the stage's wdir), a
 * `file: [keys]` entry names values in another file, `file:` alone tracks the whole file. The
 * values enter the fingerprint; keys of the root params.yaml are addressable by `-p` and sweeps.
 */
function stageParams(r: ResolvedStage, raw: unknown, c: StageContext, error: (p: PathSegment[], m: string) => void) {
  if (raw === undefined || raw === null) return { keys: [], values: {}, files: 0 };
  if (!Array.isArray(raw)) { error(['params'], "'params' must be a list"); return undefined; }
  const perFile = new Map<string, { keys: string[] | 'all'; at: PathSegment[] }>();
  const want = (file: string, keys: string[] | 'all', at: PathSegment[]) => {
    const cur = perFile.get(file);
    if (keys === 'all' || cur?.keys === 'all') perFile.set(file, { keys: 'all', at: cur?.at ?? at });
    else perFile.set(file, { keys: [...(cur?.keys ?? []), ...keys], at: cur?.at ?? at });
  };
  raw.forEach((entry, i) => {
    if (typeof entry === 'string') return want('params.yaml', [entry], ['params', i]);
    if (isComposite(entry) && !Array.isArray(entry)) {
      for (const [file, keys] of Object.entries(entry)) {
        if (keys === null || keys === undefined || (Array.isArray(keys) && keys.length === 0)) want(file, 'all', ['params', i, file]);
        else if (Array.isArray(keys) && keys.every((k) => typeof k === 'string')) want(file, keys as string[], ['params', i, file]);
        else error(['params', i, file], `expected a list of param keys for '${file}'`);
      }
      return;
    }
    error(['params', i], 'a params entry is a key of params.yaml or a map of a file to its keys');
  });
  const keys: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [file, { keys: wanted, at }] of perFile) {
    const path = normalizeProjectPath(posix.join(r.wdir, file));
    if (path === undefined) { error(at, `'${file}' leaves the project`); continue; }
    const isRoot = path === c.rootParamsPath;
    let data: Record<string, unknown>;
    if (isRoot && c.rootParams) data = c.rootParams;
    else {
      const text = c.readFile(path);
      if (text === undefined) { error(at, `params file '${path}' does not exist`); continue; }
      const parsed = parseParamsFile(path, text);
      if (!parsed.ok) { error(at, parsed.message); continue; }
      data = plain(parsed.data) as Record<string, unknown>;
    }
    const names = wanted === 'all' ? Object.keys(data) : [...new Set(wanted)];
    const missing = names.filter((k) => !selectKey(data, k).found);
    if (missing.length) { error(at, `params ${missing.map((m) => `'${m}'`).join(', ')} missing from '${path}'`); continue; }
    if (isRoot) {
      for (const k of names) {
        keys.push(k);
        setPath(values, k.split('.'), structuredClone((selectKey(data, k) as { value: unknown }).value));
      }
    } else {
      // Other files' values sit under the file's name, so they cannot collide with params.yaml keys.
      const own: Record<string, unknown> = {};
      for (const k of names) own[k] = structuredClone((selectKey(data, k) as { value: unknown }).value);
      values[path] = own;
    }
  }
  return { keys, values, files: perFile.size };
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown) {
  let cur = obj;
  for (const seg of path.slice(0, -1)) cur = (cur[seg] ??= {}) as Record<string, unknown>;
  cur[path[path.length - 1]!] = value;
}
