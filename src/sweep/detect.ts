// Telling an experiment file from a pipeline file (`massflow run` takes both), cheaply: the command
// line checks this before loading anything else.
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';

export function projectRelative(root: string, path: string): string {
  const abs = isAbsolute(path) ? path : resolve(root, path);
  const rel = relative(root, abs);
  return rel.startsWith('..') ? abs : rel.split('\\').join('/');
}

export function readText(abs: string): string | undefined {
  try { return statSync(abs).isFile() ? readFileSync(abs, 'utf8') : undefined; } catch { return undefined; }
}

/** An experiment file is a YAML map with a top-level `pipeline:` key (a pipeline has `stages:`). */
export function looksLikeExperiment(text: string): boolean {
  return /^pipeline\s*:/m.test(text);
}

/** An experiment lives in experiments/ or has a top-level `pipeline:` key. */
export function isExperimentFile(root: string, path: string): boolean {
  if (!/\.ya?ml$/i.test(path)) return false;
  if (projectRelative(root, path).startsWith('experiments/')) return true;
  const text = readText(resolve(root, path));
  return text !== undefined && looksLikeExperiment(text);
}
