// Before a run starts anything: the params of every TS stage about to run, checked against the
// stage's own schema (src/exec/param-check.ts). A rejection is a located spec error, exit 2.
import { checkStageParams, paramCheckRequests } from '../exec/param-check.js';
import type { Analysis } from '../project/analyze.js';
import type { Pipeline } from '../spec/model.js';
import { stageParamDiagnostics } from '../spec/param-diagnostics.js';
import { DiagnosticsError } from './common.js';

export async function preflightParams(root: string, pipeline: Pipeline, analysis: Analysis, overrides: readonly string[], profiles: readonly string[]): Promise<void> {
  const toRun = new Set(analysis.plan.filter((p) => p.decision.kind === 'run').map((p) => p.id));
  const results = await checkStageParams(paramCheckRequests(root, pipeline.stages.filter((s) => toRun.has(s.id))));
  if (!results.length) return;
  const { diagnostics, source } = stageParamDiagnostics(pipeline, results, overrides, profiles);
  throw new DiagnosticsError(diagnostics, new Map([[source.path, source]]));
}
