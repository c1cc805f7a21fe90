// The sweep's terminal view: one plain line per unit start and end (labelled trial/stage), one per
// finished trial, then the trials ranked by the objective and the best one (with several
// objectives: the Pareto front first, marked, then the rest). Lines are stable so the end-to-end
// tests assert them exactly.
import type { Output } from '../report/run-view.js';
import { describeDevices, describeStageStart, outcomeDetail } from '../report/describe.js';
import { fmtDuration, pad, table, type Style } from '../report/format.js';
import { unhandled } from '../core/run-events.js';
import type { SweepEvent } from './events.js';
import { compareByObjective, objectivesOf } from './objective.js';
import type { Objective } from './schema.js';
import type { SweepRecord } from './record.js';

export class SweepView {
  private width = 28;
  private objectives: Objective[] = [];

  constructor(private readonly out: Output, private readonly style: Style) {}

  readonly sink = (e: SweepEvent): void => {
    const s = this.style;
    switch (e.type) {
      case 'sweep-start': {
        const trials = `${e.trials} trial${e.trials === 1 ? '' : 's'}`;
        const limit = e.concurrency ? `, ${e.concurrency} trial${e.concurrency === 1 ? '' : 's'} at once` : '';
        this.print(`${s.bold('massflow')} sweep ${e.sweepId} · ${e.experiment} on ${e.pipeline} · ${trials} · stages: ${e.units.run} to run, ${e.shared} shared, ${e.units.cached} cached · ${e.executor}, jobs ${e.jobs}${limit}`);
        return;
      }
      case 'unit': {
        const r = e.event;
        const shared = e.sharedBy ? `  (shared by ${e.sharedBy} more trial${e.sharedBy === 1 ? '' : 's'})` : '';
        switch (r.type) {
          case 'stage-start': {
            const devices = describeDevices(r.devices);
            this.print(`${pad(r.action === 'run' ? 'start' : 'restore', 9)} ${this.label(e.trial, r.id)}${describeStageStart(r)}${devices ? ` [${devices}]` : ''}`);
            return;
          }
          case 'stage-warning':
            this.print(s.yellow(`${pad('warning', 9)} ${this.label(e.trial, r.id)}${r.message}`));
            return;
          case 'stage-wait':
            this.print(`${pad('waiting', 9)} ${this.label(e.trial, r.id)}lock on ${r.resource} held by run ${r.owner.runId} (pid ${r.owner.pid} on ${r.owner.host})`);
            return;
          case 'stage-end': {
            const o = r.outcome;
            const color = { ran: s.green, restored: s.cyan, fresh: s.dim, failed: s.red, skipped: s.yellow, cancelled: s.yellow, pruned: s.yellow }[o.kind];
            this.print(`${color(pad(o.kind === 'failed' ? 'FAILED' : o.kind, 9))} ${this.label(e.trial, r.id)}${outcomeDetail(o)}${shared}`);
            if (o.kind === 'failed') for (const l of o.logTail.slice(-10)) this.print(`  ${s.dim('|')} ${l}`);
            return;
          }
          case 'run-start': case 'stage-log': case 'stage-progress': case 'stage-metric': case 'stage-artifact': case 'run-interrupt': case 'run-end':
            return;
          default: return unhandled(r);
        }
      }
      case 'trial-end': {
        const status = e.status === 'succeeded' ? s.green(e.status) : e.status === 'failed' ? s.red(e.status) : s.yellow(e.status);
        const known = this.objectives.flatMap((o, i) => (e.values[i] == null ? [] : [`${o.metric} = ${fmtValue(e.values[i]!)}`]));
        const value = known.length ? `  ${known.join(', ')}` : '';
        this.print(`${pad('trial', 9)} ${pad(e.trial, this.width)}${status}${value}`);
        return;
      }
      case 'sweep-interrupt':
        this.print(s.yellow('interrupted: stopping stages; nothing partial will be committed'));
        return;
      case 'sweep-error':
        this.print(s.red(`error: ${e.message}; no more trials are asked`));
        return;
      case 'sweep-end':
        this.summary(e.record);
        return;
      default: return unhandled(e);
    }
  };

  /** Set before the sweep starts: the metrics the trials are ranked by. */
  setObjectives(objectives: Objective[]) { this.objectives = objectives; }

  private label(trial: string, id: string) {
    const l = `${trial}/${id}`;
    this.width = Math.max(this.width, l.length + 2);
    return pad(l, this.width);
  }

  private summary(r: SweepRecord) {
    const s = this.style;
    const objectives = objectivesOf(r.objective);
    const several = objectives.length > 1;
    const onFront = new Set((r.front ?? []).map((f) => f.trial));
    const trials = [...r.trials];
    if (objectives.length) {
      const by = compareByObjective(objectives[0]!.direction);
      trials.sort((a, b) => Number(onFront.has(b.name)) - Number(onFront.has(a.name)) || by(a.objective, b.objective));
    }
    const head = ['trial', 'status', ...r.swept, ...objectives.map((o) => `${o.metric} (${o.direction})`), ...(several ? ['front'] : [])];
    const rows = trials.map((t) => [
      t.name,
      t.status,
      ...r.swept.map((k) => (k in t.point ? fmtParam(t.point[k]) : '')),
      ...objectives.map((_, i) => { const v = several ? t.values?.[i] : t.objective; return v == null ? '-' : fmtValue(v); }),
      ...(several ? [onFront.has(t.name) ? '*' : ''] : []),
    ]);
    this.out.write(table([head, ...rows]).join('\n') + '\n');
    if (several) {
      const front = r.front ?? [];
      this.out.write(front.length
        ? `Pareto front: ${front.map((f) => s.bold(f.trial)).join(', ')} (${front.length} of ${r.trials.length} trials: those no other trial dominates)\n`
        : `Pareto front: none (no trial reported every objective)\n`);
    } else if (r.best) this.out.write(`best: ${s.bold(r.best.trial)} (${objectives[0]!.metric} = ${fmtValue(r.best.value)}) · run ${r.best.runId} · massflow rerun ${r.best.runId}\n`);
    else if (objectives.length) this.out.write(`best: none (no trial reported ${objectives[0]!.metric})\n`);
    const n = (st: string) => r.trials.filter((t) => t.status === st).length;
    const status = r.status === 'succeeded' ? s.green('succeeded') : r.status === 'failed' ? s.red('failed') : s.yellow(String(r.status));
    const u = r.units;
    this.out.write(`${status}: ${n('succeeded')} trials succeeded, ${n('failed')} failed, ${n('cancelled')} cancelled${n('pruned') ? `, ${n('pruned')} pruned` : ''}; stages: ${u.ran} ran, ${u.cached} cached, ${u.failed} failed, ${u.skipped} skipped of ${u.total} distinct in ${fmtDuration(r.durationMs ?? 0)}\n`);
    this.out.write(`records: runs/${r.sweepId}/sweep.json · trial workspaces: ${r.workspaces}\n`);
  }

  private print(line: string) { this.out.write(line + '\n'); }
}

export function fmtValue(v: number): string {
  return Number.isInteger(v) ? String(v) : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 ? v.toFixed(4) : v.toExponential(3);
}

export function fmtParam(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}
