// Compiles a massflow pipeline file or a dvc.yaml (with its params files) into the pipeline model.
// Kept apart from ./load.ts so that a command served from the compiled-spec cache loads neither
// compiler.
import { compilePipeline, type CompileResult } from '../pipeline/compile.js';
import { diag } from '../pipeline/diagnostics.js';
import type { Override } from '../pipeline/params.js';
import { loadDvcPipeline } from '../dvc/load.js';
import { isDvcFile } from '../dvc/file.js';

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
