// Reads a pipeline file from disk and compiles it; picks the default pipeline when none is named.
// A spec compiled before with the same text, arguments and compiler is taken from
// .massflow/state/compiled/ (./compiled-spec.ts), so the compiler's modules load only on a change.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MASSFLOW_VERSION } from '../core/package.js';
import type { CompileResult } from '../spec/compile.js';
import { diag, type Diagnostic } from '../spec/diagnostics.js';
import type { Pipeline } from '../spec/model.js';
import type { Override } from '../spec/params.js';
import { sha256 } from '../cache/canonical.js';
import { codeStamp, CompiledSpecs } from './compiled-spec.js';

export type LoadResult =
  | { ok: true; pipeline: Pipeline }
  | { ok: false; diagnostics: Diagnostic[]; result?: CompileResult };

/** Folders whose modules decide what a spec compiles to (the pipeline schema includes tracking's). */
const COMPILER_DIRS = ['spec', 'track', 'core'].map((d) => join(dirname(fileURLToPath(import.meta.url)), '..', d));

export const isSpecPath = (arg: string) => /\.ya?ml$/i.test(arg);

/** The pipeline to use when none is named: massflow.yaml, else the only file in pipelines/. */
export function defaultPipeline(root: string): string | Diagnostic {
  if (existsSync(join(root, 'massflow.yaml'))) return 'massflow.yaml';
  const dir = join(root, 'pipelines');
  const files = existsSync(dir) ? readdirSync(dir).filter(isSpecPath).sort() : [];
  if (files.length === 1) return `pipelines/${files[0]}`;
  return diag('file', files.length
    ? `name a pipeline: ${files.map((f) => `pipelines/${f}`).join(', ')}`
    : 'no pipeline found: name one (massflow run pipelines/NAME.yaml) or create massflow.yaml', undefined);
}

export async function loadPipeline(root: string, specPath: string, overrides: readonly Override[], profiles: readonly string[], compiledDir: string): Promise<LoadResult> {
  const abs = isAbsolute(specPath) ? specPath : resolve(root, specPath);
  const shown = relative(root, abs).startsWith('..') ? abs : relative(root, abs);
  let text: string;
  try {
    if (!statSync(abs).isFile()) throw new Error('not a file');
    text = readFileSync(abs, 'utf8');
  } catch {
    return { ok: false, diagnostics: [diag('file', `cannot read pipeline file '${shown}'`, undefined)] };
  }
  const fileExists = (p: string) => { try { return statSync(join(root, p)).isFile(); } catch { return false; } };
  const compiled = new CompiledSpecs(compiledDir);
  const key = sha256(JSON.stringify([MASSFLOW_VERSION, codeStamp(COMPILER_DIRS), root, shown, text, overrides, profiles]));
  const kept = compiled.get(key, fileExists);
  if (kept) return { ok: true, pipeline: kept };

  const checked = new Map<string, boolean>();
  const { compilePipeline } = await import('../spec/compile.js');
  const result = compilePipeline({
    file: shown,
    text,
    overrides,
    profiles,
    fileExists: (p) => { const e = fileExists(p); checked.set(p, e); return e; },
  });
  if (!result.pipeline) return { ok: false, diagnostics: result.diagnostics, result };
  if (result.diagnostics.length === 0) await compiled.put(key, result.pipeline, checked);
  return { ok: true, pipeline: result.pipeline };
}
