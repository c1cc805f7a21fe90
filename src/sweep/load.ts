// Reading an experiment file from a project: the disk side of compileExperiment.
import { basename, join, resolve } from 'node:path';
import { fileExistsIn, pathExistsIn } from '../project/load.js';
import { diag } from '../pipeline/diagnostics.js';
import type { Override } from '../pipeline/params.js';
import { projectRelative, readText } from './detect.js';
import { compileExperiment, type ExperimentResult } from './experiment.js';

export { fileExistsIn };

export function loadExperiment(root: string, path: string, cliOverrides: readonly Override[], cliProfiles: readonly string[] = []): ExperimentResult {
  const file = projectRelative(root, path);
  const text = readText(resolve(root, path));
  if (text === undefined) return { ok: false, diagnostics: [diag('file', `cannot read experiment file '${file}'`, undefined)], skipped: [] };
  return compileExperiment({
    file,
    text,
    readFile: (p) => readText(join(root, p)),
    fileExists: fileExistsIn(root),
    projectName: basename(root),
    pathExists: pathExistsIn(root),
    cliOverrides,
    cliProfiles,
  });
}
