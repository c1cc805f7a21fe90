// The run's terminal view. On a TTY: finished stages scroll above a live block of running stages
// (elapsed time, progress bars) redrawn in place. Otherwise: one plain line per state change, in a
// stable format the end-to-end tests assert exactly. Both close with the same summary.
import type { StageId } from '../core/brand.js';
import type { StageOutcome } from '../core/run-events.js';
import { describeDevices, describeStageStart, outcomeDetail } from './describe.js';
import { logFileName } from '../project/layout.js';
import { unhandled, type RunEvent } from '../core/run-events.js';
import { fmtDuration, pad, table, type Style } from './format.js';

export interface Output { write(s: string): void; columns?: number | undefined }

interface Live { id: StageId; action: string; since: number; done?: number; total?: number; waiting?: string; devices?: string }

const SPIN = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class RunView {
  private readonly live = new Map<StageId, Live>();
  private readonly ended: [StageId, StageOutcome][] = [];
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private frame = 0;
  private width = 24;
  private logsDir = '';

  constructor(private readonly out: Output, private readonly style: Style, private readonly tty: boolean) {}

  readonly sink = (e: RunEvent): void => {
    switch (e.type) {
      case 'run-start': {
        this.width = Math.max(16, ...e.plan.map((p) => p.id.length)) + 2;
        const n = (a: string) => e.plan.filter((p) => p.action === a).length;
        this.print(`${this.style.bold('massflow')} run ${e.runId} · ${e.pipeline} · ${e.plan.length} stages: ${n('run')} to run, ${n('restore')} to restore, ${n('fresh')} fresh · ${e.executor}, jobs ${e.jobs}`);
        if (this.tty) this.timer = setInterval(() => this.redraw(), 100);
        return;
      }
      case 'stage-start': {
        const devices = describeDevices(e.devices);
        this.live.set(e.id, { id: e.id, action: e.action, since: e.at, ...(devices ? { devices } : {}) });
        if (!this.tty) this.print(`${pad(e.action === 'run' ? 'start' : 'restore', 9)} ${pad(e.id, this.width)}${describeStageStart(e)}${devices ? ` [${devices}]` : ''}`);
        return;
      }
      case 'stage-warning':
        this.print(this.style.yellow(`${pad('warning', 9)} ${pad(e.id, this.width)}${e.message}`));
        return;
      case 'stage-wait': {
        const msg = `waiting for lock on ${e.resource} held by run ${e.owner.runId} (pid ${e.owner.pid} on ${e.owner.host})`;
        const l = this.live.get(e.id);
        if (l) l.waiting = msg; else this.live.set(e.id, { id: e.id, action: 'wait', since: e.at, waiting: msg });
        this.print(`${pad('waiting', 9)} ${pad(e.id, this.width)}${msg.slice('waiting for '.length)}`);
        return;
      }
      case 'stage-progress': {
        const l = this.live.get(e.id);
        if (l) { l.done = e.done; l.total = e.total; }
        return;
      }
      case 'stage-log': case 'stage-metric': case 'stage-artifact': return;
      case 'stage-end':
        this.live.delete(e.id);
        this.ended.push([e.id, e.outcome]);
        this.printOutcome(e.id, e.outcome);
        return;
      case 'run-interrupt':
        this.print(this.style.yellow('interrupted: stopping stages; nothing partial will be committed'));
        return;
      case 'run-end': {
        if (this.timer) clearInterval(this.timer);
        this.clearLive();
        const c = e.counts;
        const rows = this.ended.map(([id, o]) => [id, o.kind, outcomeDetail(o)]);
        if (rows.length) this.out.write(table(rows).join('\n') + '\n');
        const status = e.status === 'succeeded' ? this.style.green('succeeded') : e.status === 'failed' ? this.style.red('failed') : this.style.yellow(e.status);
        this.out.write(`${status}: ${c.ran} ran, ${c.restored} restored, ${c.fresh} fresh, ${c.failed} failed, ${c.skipped} skipped, ${c.cancelled} cancelled in ${fmtDuration(e.durationMs)}\n`);
        if (e.status === 'cancelled') this.out.write('cancelled stages committed nothing; rerun to continue from the cache\n');
        return;
      }
      default: return unhandled(e);
    }
  };

  setLogsDir(dir: string) { this.logsDir = dir; }

  private printOutcome(id: StageId, o: StageOutcome) {
    const s = this.style;
    const color = { ran: s.green, restored: s.cyan, fresh: s.dim, failed: s.red, skipped: s.yellow, cancelled: s.yellow, pruned: s.yellow }[o.kind];
    this.print(`${color(pad(o.kind === 'failed' ? 'FAILED' : o.kind, 9))} ${pad(id, this.width)}${outcomeDetail(o)}`);
    if (o.kind === 'failed') {
      for (const l of o.logTail.slice(-10)) this.print(`  ${s.dim('|')} ${l}`);
      if (this.logsDir) this.print(`  ${s.dim(`log: ${this.logsDir}/${logFileName(id)}`)}`);
    }
  }

  private print(line: string) {
    this.clearLive();
    this.out.write(line + '\n');
    this.drawLive();
  }

  private clearLive() {
    if (!this.tty || this.drawn === 0) return;
    this.out.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private redraw() {
    this.frame++;
    this.clearLive();
    this.drawLive();
  }

  private drawLive() {
    if (!this.tty || this.live.size === 0) return;
    const now = Date.now();
    const cols = this.out.columns || 100;
    const lines = [...this.live.values()].map((l) => {
      const spin = this.style.cyan(SPIN[this.frame % SPIN.length]!);
      const t = fmtDuration(now - l.since);
      let bar = '';
      if (l.total) {
        const frac = Math.min(1, (l.done ?? 0) / l.total);
        const w = 20;
        bar = ` [${'#'.repeat(Math.round(frac * w))}${'-'.repeat(w - Math.round(frac * w))}] ${l.done}/${l.total}`;
      }
      // Truncate the plain text to the terminal width, so a line never wraps and breaks the redraw.
      const text = `${pad(l.id, this.width)}${pad(t, 8)}${l.devices ? `${l.devices} ` : ''}${l.waiting ?? bar}`.slice(0, Math.max(10, cols - 3));
      return `${spin} ${text}`;
    });
    this.out.write(lines.join('\n') + '\n');
    this.drawn = lines.length;
  }
}
