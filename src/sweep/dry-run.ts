// `massflow sweep --dry-run`: the trials, and for each the stages it would run itself, share with
// an earlier trial (which runs them once), or find cached. Pure: lines from a plan.
import type { StageId } from '../core/brand.js';
import { memberRole, type SweepPlan } from './plan.js';
import { fmtParam } from './view.js';
import { objectivesOf } from './objective.js';

export function dryRunLines(plan: SweepPlan): string[] {
  const exp = plan.experiment;
  const toRun = plan.units.filter((u) => u.decision.kind === 'run');
  const memberships = plan.trials.reduce((n, t) => n + t.pipeline.stages.length, 0);
  const saved = toRun.reduce((n, u) => n + u.members.length - 1, 0);
  const lines = [
    `${exp.name} (${exp.file}) on ${exp.pipelineFile}: ${plan.trials.length} trial${plan.trials.length === 1 ? '' : 's'}, ` +
      `${memberships} stage instances, ${plan.units.length} distinct: ${toRun.length} to run, ${plan.units.length - toRun.length} cached; ` +
      `sharing saves ${saved} run${saved === 1 ? '' : 's'}`,
  ];
  const objectives = objectivesOf(exp.spec.objective);
  if (objectives.length) lines.push(`objective${objectives.length > 1 ? 's' : ''}: ${objectives.map((o) => `${o.direction} ${o.metric}`).join(', ')}`);
  for (const t of plan.trials) {
    const values = Object.entries(t.trial.params).map(([k, v]) => `${k}=${fmtParam(v)}`);
    const switches = Object.keys(t.trial.switches).map((s) => `${s}: switched`);
    lines.push(`${t.trial.name}${values.length || switches.length ? `  ${[...values, ...switches].join(' ')}` : ''}`);
    const run: StageId[] = [];
    const cached: StageId[] = [];
    const shared = new Map<string, StageId[]>();
    for (const s of t.pipeline.stages) {
      const role = memberRole(t, s.id);
      if (role.kind === 'run') run.push(s.id);
      else if (role.kind === 'cached') cached.push(s.id);
      else shared.set(role.owner, [...(shared.get(role.owner) ?? []), s.id]);
    }
    if (run.length) lines.push(`  run     ${run.join(', ')}`);
    for (const [owner, ids] of shared) lines.push(`  share   ${ids.join(', ')} (run by ${owner})`);
    if (cached.length) lines.push(`  cached  ${cached.join(', ')}`);
  }
  return lines;
}
