// `massflow sweep --dry-run` on an Optuna experiment: no trial is known before the sampler asks it,
// so this says what the sweep would do from where the study stands: the sampler, pruner, objective
// and search space, the study's trials used and left in the budget, a trial a dead sweep left
// running (asked again first), and the finished trials a sweep keeps. Pure: lines from the
// experiment and the study's state as read (nothing asked, nothing changed).
import type { Experiment } from '../experiment.js';
import { objectivesOf, splitMetric } from '../objective.js';
import { fmtParam, fmtValue } from '../view.js';
import type { StoredTrial, StudyState } from './study-child.js';
import type { OptunaDistribution, OptunaSweep } from './schema.js';

const trialName = (n: number) => `t${String(n).padStart(3, '0')}`;
const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
const options = (o: Record<string, unknown> | undefined) => Object.entries(o ?? {}).map(([k, v]) => `${k} ${fmtParam(v)}`);

function distribution(d: OptunaDistribution): string {
  const parts = 'choice' in d ? [`choice [${d.choice.map(fmtParam).join(', ')}]`]
    : 'integer' in d ? [`integer [${d.integer.join(', ')}]`, ...(d.step ? [`step ${d.step}`] : []), ...(d.log ? ['log'] : [])]
      : 'uniform' in d ? [`uniform [${d.uniform.join(', ')}]`, ...(d.step !== undefined ? [`step ${d.step}`] : [])]
        : [`log-uniform [${d['log-uniform'].join(', ')}]`];
  const when = Object.entries(d.when ?? {}).map(([k, v]) => (Array.isArray(v) ? `${k} in [${v.map(fmtParam).join(', ')}]` : `${k}=${fmtParam(v)}`));
  return [...parts, ...(when.length ? [`when ${when.join(' and ')}`] : [])].join(', ');
}

/** Whether a trial uses up the budget, as the next sweep's open will count it. */
function counted(t: StoredTrial): boolean {
  if (t.interrupted || t.surplus || t.state === 'WAITING') return false;
  return t.state !== 'RUNNING' || t.owner_alive !== false;
}

export function optunaDryRunLines(exp: Experiment, o: OptunaSweep, storageShown: string, state: StudyState): string[] {
  const study = o.study ?? exp.name;
  const objectives = objectivesOf(exp.spec.objective);
  const lines = [
    `${exp.file} on ${exp.pipelineFile}: an optuna sweep asks each trial while it runs, so none is listed ahead (--dry-run asks nothing and changes nothing)`,
    `sampler    ${[o.sampler ?? 'tpe', ...(o.seed !== undefined ? [`seed ${o.seed}`] : []), ...options(o.sampler_options)].join(', ')}`,
  ];
  const p = o.prune;
  if (p) {
    const spelled = [
      ...(p.warmup_steps !== undefined ? [`warmup_steps ${p.warmup_steps}`] : []),
      ...(p.startup_trials !== undefined ? [`startup_trials ${p.startup_trials}`] : []),
      ...(p.combine ? [`combine ${p.combine}`] : []),
    ];
    lines.push(`pruner     ${[`${p.pruner} on ${p.metric}`, ...spelled, ...options(p.options)].join(', ')}`);
  }
  lines.push(`objective  ${objectives.map((x) => `${x.direction} ${x.metric}`).join(', ')}`);
  Object.entries(o.params).forEach(([k, d], i) => lines.push(`${i === 0 ? 'space     ' : '          '} ${k} ${distribution(d)}`));

  const trials = [...state.trials].sort((a, b) => a.number - b.number);
  const used = trials.filter(counted);
  const by = (s: StoredTrial['state']) => used.filter((t) => t.state === s).length;
  const left = Math.max(0, o.trials - used.length);
  const where = `study      '${study}' in ${storageShown}`;
  if (!state.exists) {
    lines.push(`${where}: none yet (the first sweep creates it); ${plural(left, 'trial')} to ask`);
    return lines;
  }
  const parts = [`${by('COMPLETE')} complete`, `${by('PRUNED')} pruned`, `${by('FAIL')} failed`, `${by('RUNNING')} running`];
  lines.push(`${where}: ${used.length} of ${plural(o.trials, 'trial')} used (${parts.join(', ')}), ${left} left`);
  for (const t of trials.filter((t) => t.state === 'RUNNING' && t.owner_alive === false)) {
    lines.push(`           ${trialName(t.number)} was left running by a sweep that is gone: the next sweep marks it failed and asks its params again first`);
  }
  const queued = trials.filter((t) => t.state === 'WAITING');
  if (queued.length) lines.push(`           ${queued.map((t) => trialName(t.number)).join(', ')} queued: asked first`);

  const finished = used.filter((t) => t.state !== 'RUNNING');
  if (finished.length) {
    lines.push('finished trials, kept in the study (a sweep does not run them again):');
    for (const t of finished) {
      const outcome = t.state === 'COMPLETE'
        ? ['complete', ...objectives.map((x, i) => `${splitMetric(x.metric).key}=${t.values?.[i] === undefined ? '-' : fmtValue(t.values[i]!)}`)]
        : t.state === 'PRUNED' ? [`pruned${t.last_step !== null ? ` at step ${t.last_step}` : ''}`] : ['failed'];
      const params = Object.entries(t.params).map(([k, v]) => `${k}=${fmtParam(v)}`);
      lines.push(`  ${trialName(t.number)}  ${[...outcome, ...params].join('  ')}`);
    }
  }
  return lines;
}
