// Reads a pipeline file from disk and compiles it; picks the default pipeline when none is named.
// A spec compiled before with the same text, arguments and compiler is taken from
// .massflow/state/compiled/ (./compiled-spec.ts), so the compiler's modules load only on a change.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MASSFLOW_VERSION } from '../core/package.js';
import type { CompileResult } from '../pipeline/compile.js';
import { diag, type Diagnostic } from '../pipeline/diagnostics.js';
import type { Pipeline } from '../pipeline/model.js';
import type { Override } from '../pipeline/params.js';
import { sha256 } from '../cache/canonical.js';
import { codeStamp, CompiledSpecs, readDigest } from './compiled-spec.js';

export type LoadResult =
  | { ok: true; pipeline: Pipeline; warnings: Diagnostic[] }
  | { ok: false; diagnostics: Diagnostic[]; skipped: string[]; result?: CompileResult };

/** Folders whose modules decide what a spec compiles to (the pipeline schema includes tracking's). */
const COMPILER_DIRS = ['pipeline', 'track', 'core'].map((d) => join(dirname(fileURLToPath(import.meta.url)), '..', d));

/** The compiler build: massflow's version and its compiler modules' stamp (computed once per process). */
let stamp: string | undefined;
export const compilerStamp = (): string => (stamp ??= sha256(JSON.stringify([MASSFLOW_VERSION, codeStamp(COMPILER_DIRS)])));

/** `gc`: removes the kept compiled pipelines no command can use again (see CompiledSpecs.prune). */
export const pruneCompiledSpecs = (compiledDir: string, dryRun: boolean) => new CompiledSpecs(compiledDir).prune(compilerStamp(), dryRun);

export const isSpecPath = (arg: string) => /\.ya?ml$/i.test(arg);

/** The pipeline to use when none is named: massflow.yaml, else the only file in pipelines/, else dvc.yaml. */
export function defaultPipeline(root: string): string | Diagnostic {
  if (existsSync(join(root, 'massflow.yaml'))) return 'massflow.yaml';
  const dir = join(root, 'pipelines');
  const files = existsSync(dir) ? readdirSync(dir).filter(isSpecPath).sort() : [];
  if (files.length === 1) return `pipelines/${files[0]}`;
  if (!files.length && existsSync(join(root, 'dvc.yaml'))) return 'dvc.yaml';
  return diag('file', files.length
    ? `name a pipeline: ${files.map((f) => `pipelines/${f}`).join(', ')}`
    : 'no pipeline found: name one (massflow run pipelines/NAME.yaml) or create massflow.yaml', undefined);
}

export const fileExistsIn = (root: string) => (p: string): boolean => {
  try { return statSync(join(root, p)).isFile(); } catch { return false; }
};

export const pathExistsIn = (root: string) => (p: string): boolean => existsSync(join(root, p));

/** Loads and compiles a pipeline file; with `compiledDir`, takes and keeps compiled pipelines there. */
export async function loadPipeline(root: string, specPath: string, overrides: readonly Override[], profiles: readonly string[] = [], compiledDir?: string): Promise<LoadResult> {
  const abs = isAbsolute(specPath) ? specPath : resolve(root, specPath);
  const shown = relative(root, abs).startsWith('..') ? abs : relative(root, abs);
  let text: string;
  try {
    if (!statSync(abs).isFile()) throw new Error('not a file');
    text = readFileSync(abs, 'utf8');
  } catch {
    return { ok: false, diagnostics: [diag('file', `cannot read pipeline file '${shown}'`, undefined)], skipped: [] };
  }
  const probes = { file: fileExistsIn(root), path: pathExistsIn(root) };
  const read = (p: string): string | undefined => { try { return readFileSync(join(root, p), 'utf8'); } catch { return undefined; } };
  const compiled = compiledDir === undefined ? undefined : new CompiledSpecs(compiledDir);
  const from = compiled && { spec: abs, text: sha256(text), stamp: compilerStamp() };
  const key = from && sha256(JSON.stringify([from.stamp, root, shown, text, overrides, profiles]));
  const kept = key && compiled?.get(key, probes, read);
  if (kept) {
    // The parsed file is only read to locate a later finding; parsing it waits for that.
    const { YamlSource } = await import('../pipeline/yaml-source.js');
    let source: ReturnType<typeof YamlSource.parse>['source'] | undefined;
    return { ok: true, pipeline: Object.defineProperty(kept, 'source', { get: () => (source ??= YamlSource.parse(shown, text).source), enumerable: true }) as Pipeline, warnings: [] };
  }

  const answers = { file: new Map<string, boolean>(), path: new Map<string, boolean>(), read: new Map<string, string | null>() };
  const recorded = (kind: 'file' | 'path') => (p: string) => { const e = probes[kind](p); answers[kind].set(p, e); return e; };
  const { compileSpec } = await import('./compile-spec.js');
  const result = compileSpec({
    file: shown,
    text,
    overrides,
    profiles,
    projectName: basename(root),
    fileExists: recorded('file'),
    pathExists: recorded('path'),
    // A dvc.yaml's params files: what was read is checked again before a kept result is used.
    readFile: (p) => { const text = read(p); answers.read.set(p, readDigest(text)); return text; },
  });
  if (!result.pipeline) return { ok: false, diagnostics: result.diagnostics, skipped: result.skipped, result };
  if (key && from && result.diagnostics.length === 0) await compiled?.put(key, from, result.pipeline, answers);
  return { ok: true, pipeline: result.pipeline, warnings: result.diagnostics };
}
