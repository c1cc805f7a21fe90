// What a stage's processes used, measured from inside the process the stage runs under (the TS
// stage's child, or the guard of a `cmd:` stage), which is the only place that sees its children
// end: the runner's Node cannot ask the OS for one child's resource usage. On Linux, /proc gives
// CPU time of the process and of every child it has waited for (cutime, cstime), and each
// process's resident high-water mark (VmHWM). Elsewhere only the process's own figures exist.
import { readdirSync, readFileSync } from 'node:fs';
import type { StageUsage } from '../core/run-events.js';

/** Clock ticks per second of /proc's times: USER_HZ, 100 on every Linux architecture Node runs on. */
const USER_HZ = 100;

/** CPU ms of this process (`self`) and of the children it waited for (`children`). */
export function cpuTimes(): { self: number; children: number } {
  const own = process.cpuUsage();
  const self = (own.user + own.system) / 1000;
  try {
    // Fields after the ")" that ends the command name: state is 3, utime 14 ... cstime 17.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = (i: number) => Number(f[i - 3]);
    return { self, children: ((ticks(16) + ticks(17)) * 1000) / USER_HZ };
  } catch {
    return { self, children: 0 };
  }
}

/** The resident high-water mark of a live process in bytes, or undefined when it cannot be read. */
export function peakRss(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** A process and its descendants, through /proc/<pid>/task/<tid>/children; just `pid` where that is missing. */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number): void => {
    out.push(p);
    let tasks: string[];
    try { tasks = readdirSync(`/proc/${p}/task`); } catch { return; }
    for (const t of tasks) {
      let kids = '';
      try { kids = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8'); } catch { /* gone, or not exposed */ }
      for (const k of kids.split(' ')) if (k.trim() !== '') visit(Number(k));
    }
  };
  visit(pid);
  return out;
}

/**
 * Follows the largest peak RSS of one process in a child's tree (a shell's command, a script's
 * workers). A process's high-water mark can be read only while it lives, so it is sampled: growth
 * in the last interval before a process exits, and processes shorter than it, are missed.
 */
export function watchPeakRss(pid: number, intervalMs = 100): { stop(): number } {
  const sample = (): number => Math.max(0, ...processTree(pid).map((p) => peakRss(p) ?? 0));
  let peak = sample();
  const timer = setInterval(() => { peak = Math.max(peak, sample()); }, intervalMs);
  timer.unref();
  return { stop: () => { clearInterval(timer); return peak; } };
}

/** This process's usage, children it waited for included (a TS stage's child reports it). */
export function ownUsage(): StageUsage {
  const cpu = cpuTimes();
  return { cpuMs: Math.round(cpu.self + cpu.children), peakRssBytes: process.resourceUsage().maxRSS * 1024 };
}
