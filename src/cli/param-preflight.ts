// Before a run or a sweep starts anything: the params of every TS stage about to run, checked
// against the stage's own schema (src/exec/param-check.ts). A rejection is a located spec error,
// exit 2, and nothing has run.
import { checkStageParams, paramCheckGroups } from '../exec/param-check.js';
import type { DiskPlan } from '../project/plan-from-disk.js';
import type { Diagnostic } from '../spec/diagnostics.js';
import type { Pipeline, StageInstance } from '../spec/model.js';
import { stageParamDiagnostics } from '../spec/param-diagnostics.js';
import type { SweepPlan } from '../sweep/plan.js';
import { DiagnosticsError } from './common.js';

export async function preflightParams(root: string, pipeline: Pipeline, analysis: DiskPlan, overrides: readonly string[], profiles: readonly string[]): Promise<void> {
  const toRun = new Set(analysis.plan.filter((p) => p.decision.kind === 'run').map((p) => p.id));
  const diagnostics = await rejectedParams(root, pipeline, pipeline.stages.filter((s) => toRun.has(s.id)), overrides, profiles);
  if (diagnostics.length) throw new DiagnosticsError(diagnostics);
}

/** What the given stages' modules reject in their params, as located diagnostics (`massflow check` checks every stage). */
export async function rejectedParams(root: string, pipeline: Pipeline, stages: readonly StageInstance[], overrides: readonly string[], profiles: readonly string[]): Promise<Diagnostic[]> {
  const rejected = await checkStageParams(paramCheckGroups(root, stages));
  return stageParamDiagnostics(pipeline, rejected.map((r) => ({ stage: r.group.stages[0]!, errors: r.errors })), {
    overrides, profiles, describeOverride: (raw) => `-p ${raw}`,
  });
}

/** The same for a sweep: each rejection names the trials whose units would run the stage with those params. */
export async function preflightSweepParams(root: string, plan: SweepPlan, cliOverrides: readonly string[]): Promise<void> {
  const units = plan.units.filter((u) => u.decision.kind === 'run');
  const trialsOf = new Map(units.map((u) => [u.stage, u.members.map((m) => m.trial)] as const));
  const rejected = await checkStageParams(paramCheckGroups(root, units.map((u) => u.stage)));
  if (!rejected.length) return;
  const diagnostics: Diagnostic[] = [];
  for (const r of rejected) {
    const trials = [...new Set(r.group.stages.flatMap((s) => trialsOf.get(s) ?? []))];
    const first = trials[0]!;
    const names = trials.map((t) => t.trial.name);
    const prefix = `${names.length > 1 ? 'trials' : 'trial'} ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''}: `;
    diagnostics.push(...stageParamDiagnostics(first.pipeline, [{ stage: r.group.stages[0]!, errors: r.errors, prefix }], {
      overrides: first.overrides, profiles: plan.experiment.profiles, describeOverride: (raw) => (cliOverrides.includes(raw) ? `-p ${raw}` : `${raw} in ${plan.experiment.file}`),
    }));
  }
  throw new DiagnosticsError(diagnostics);
}
