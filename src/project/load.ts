// Reads a pipeline file from disk and compiles it; picks the default pipeline when none is named.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { compilePipeline, type CompileResult } from '../spec/compile.js';
import { diag, type Diagnostic } from '../spec/diagnostics.js';
import type { Override } from '../spec/params.js';
import { isDvcFile, loadDvcPipeline } from '../dvc/load.js';

export type LoadResult =
  | { ok: true; result: CompileResult }
  | { ok: false; diagnostics: Diagnostic[]; skipped: string[]; result?: CompileResult };

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

export function loadPipeline(root: string, specPath: string, overrides: readonly Override[], profiles: readonly string[] = []): LoadResult {
  const abs = isAbsolute(specPath) ? specPath : resolve(root, specPath);
  const shown = relative(root, abs).startsWith('..') ? abs : relative(root, abs);
  let text: string;
  try {
    if (!statSync(abs).isFile()) throw new Error('not a file');
    text = readFileSync(abs, 'utf8');
  } catch {
    return { ok: false, diagnostics: [diag('file', `cannot read pipeline file '${shown}'`, undefined)], skipped: [] };
  }
  const result = compileSpec({
    file: shown,
    text,
    overrides,
    profiles,
    projectName: basename(root),
    fileExists: fileExistsIn(root),
    pathExists: pathExistsIn(root),
    readFile: (p) => { try { return readFileSync(join(root, p), 'utf8'); } catch { return undefined; } },
  });
  return result.pipeline ? { ok: true, result } : { ok: false, diagnostics: result.diagnostics, skipped: result.skipped, result };
}

export interface SpecInput {
  file: string;
  text: string;
  overrides?: readonly Override[];
  profiles?: readonly string[];
  /** Names a dvc.yaml's pipeline (DVC pipelines have no name). */
  projectName?: string;
  fileExists: (projectRelative: string) => boolean;
  pathExists?: (projectRelative: string) => boolean;
  readFile: (projectRelative: string) => string | undefined;
}

/** A massflow pipeline file or a dvc.yaml (with its params files), compiled. */
export function compileSpec(input: SpecInput): CompileResult {
  if (!isDvcFile(input.file)) return compilePipeline(input);
  const result = loadDvcPipeline({ ...input, name: input.projectName ?? 'dvc' });
  if (input.profiles?.length) {
    result.diagnostics.push(diag('override', 'a dvc.yaml has no profiles: set params with -p key=value', undefined));
    return { ...result, pipeline: undefined };
  }
  return result;
}
