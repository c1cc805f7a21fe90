// Follows, while a `cmd:` stage runs, what it reports through files: its events file
// (MASSFLOW_EVENTS) and the folders DVCLive writes. Works the same whichever executor runs the
// stage, since both live on the project's filesystem. Every line is read once (the files are read
// from where the last read ended), so no point is reported twice; a bad line is a warning.
import { isAbsolute, relative, resolve } from 'node:path';
import type { StageReporter } from '../executor.js';
import { DvcLiveFollower } from './dvclive.js';
import { parseEventLine } from './events-format.js';
import { FileTail } from './file-tail.js';

export interface ChannelSources {
  eventsFile: string | undefined;
  /** DVCLive folders (each holding plots/metrics/**.tsv). */
  dvcliveDirs: string[];
  /** Where relative artifact paths are resolved and paths in warnings are shown from. */
  projectDir: string;
}

/** Past this many warnings about bad lines, the rest are only counted (said once at the end). */
const MAX_WARNINGS = 20;

export class StageChannel {
  private readonly events: FileTail | undefined;
  private readonly dvclive: DvcLiveFollower[];
  private lineNo = 0;
  private warnings = 0;
  private loop: Promise<void> | undefined;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly src: ChannelSources, private readonly report: StageReporter, private readonly pollMs = 100) {
    this.events = src.eventsFile ? new FileTail(src.eventsFile) : undefined;
    this.dvclive = src.dvcliveDirs.map((d) => new DvcLiveFollower(d));
  }

  /** Metric keys that came from DVCLive's per-step files (its metrics.json repeats their last values). */
  get dvcliveKeys(): Set<string> {
    return new Set(this.dvclive.flatMap((d) => [...d.keys]));
  }

  async start(): Promise<void> {
    for (const d of this.dvclive) await d.snapshot();
    this.loop = (async () => {
      while (!this.stopped) {
        await this.drain(false);
        if (this.stopped) break;
        // A referenced timer: stop() is always called, and until then it keeps the runner alive.
        await new Promise<void>((r) => { const t = setTimeout(r, this.pollMs); this.wake = () => { clearTimeout(t); r(); }; });
      }
    })();
  }

  /** After the stage's processes are gone: stop polling and read what is left, a last unfinished line included. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      this.wake?.();
      await this.loop;
      await this.drain(true);
      if (this.warnings > MAX_WARNINGS) this.report.warn(`${this.warnings - MAX_WARNINGS} more bad lines in ${this.show(this.src.eventsFile ?? '')} were skipped`);
    })();
    return this.stopping;
  }

  private warn(message: string) {
    if (++this.warnings <= MAX_WARNINGS) this.report.warn(message);
  }

  private show(path: string) { return relative(this.src.projectDir, path) || path; }

  private async drain(final: boolean): Promise<void> {
    if (this.events) {
      const lines = await this.events.lines(final);
      const tornAt = final && lines.length && this.events.endsMidLine ? lines.length - 1 : -1;
      lines.forEach((text, i) => {
        this.lineNo++;
        if (!text.trim()) return;
        const r = parseEventLine(text, i === tornAt);
        if (!r.ok) return this.warn(`${this.show(this.src.eventsFile!)}:${this.lineNo}: ${r.problem}; line skipped: ${text.length > 120 ? `${text.slice(0, 120)}...` : text}`);
        const e = r.event;
        switch (e.type) {
          case 'metric': this.report.metric(e.key, e.value, e.step, e.timestamp ?? Date.now()); return;
          case 'progress': this.report.progress(e.done, e.total); return;
          case 'artifact': this.report.artifact(isAbsolute(e.path) ? e.path : resolve(this.src.projectDir, e.path), e.name); return;
          case 'log': this.report.log(this.report.redact ? this.report.redact(e.line) : e.line); return;
        }
      });
    }
    for (const d of this.dvclive) {
      const points = await d.poll((path, row) => this.warn(`${this.show(path)}: DVCLive row is not a step and a number; skipped: ${row}`), final);
      for (const p of points) this.report.metric(p.key, p.value, p.step, p.timestamp ?? Date.now());
    }
  }
}
