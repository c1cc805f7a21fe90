// Reading experiment files from a project: the disk side of compileExperiment, and telling an
// experiment file from a pipeline file (`massflow run` accepts both).
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { diag } from '../spec/diagnostics.js';
import type { Override } from '../spec/params.js';
import { compileExperiment, looksLikeExperiment, type ExperimentResult } from './experiment.js';

export function projectRelative(root: string, path: string): string {
  const abs = isAbsolute(path) ? path : resolve(root, path);
  const rel = relative(root, abs);
  return rel.startsWith('..') ? abs : rel.split('\\').join('/');
}

function readText(abs: string): string | undefined {
  try { return statSync(abs).isFile() ? readFileSync(abs, 'utf8') : undefined; } catch { return undefined; }
}

export const fileExistsIn = (root: string) => (p: string) => {
  try { return statSync(join(root, p)).isFile(); } catch { return false; }
};

/** An experiment lives in experiments/ or has a top-level `pipeline:` key. */
export function isExperimentFile(root: string, path: string): boolean {
  const rel = projectRelative(root, path);
  if (rel.startsWith('experiments/')) return true;
  const text = readText(resolve(root, path));
  return text !== undefined && looksLikeExperiment(text);
}

export function loadExperiment(root: string, path: string, cliOverrides: readonly Override[]): ExperimentResult {
  const file = projectRelative(root, path);
  const text = readText(resolve(root, path));
  if (text === undefined) return { ok: false, diagnostics: [diag('file', `cannot read experiment file '${file}'`, undefined)], sources: new Map() };
  return compileExperiment({
    file,
    text,
    readFile: (p) => readText(join(root, p)),
    fileExists: fileExistsIn(root),
    cliOverrides,
  });
}
