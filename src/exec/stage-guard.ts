// The process a `cmd:` stage runs under. The runner starts it as the leader of a new process group
// (detached) with an IPC channel; it starts the command in that group and exits as the command
// did. It exists for what the runner cannot do once it is dead: when the channel closes (the runner
// exited, even by SIGKILL) or it is re-parented, it kills the whole group, so no stage process
// outlives its runner. SIGTERM and SIGINT sent to the group are for the command; the guard waits.
//
//   node stage-guard.js FILE [ARG...]
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { cpuTimes, watchPeakRss } from './usage.js';

const [file, ...args] = process.argv.slice(2);
// The runner names itself: a guard whose runner died before this module ran notices at once.
const parent = Number(process.env['MASSFLOW_RUNNER_PID']) || process.ppid;

const killGroup = (): never => {
  try { process.kill(-process.pid, 'SIGKILL'); } catch { /* the group is gone already */ }
  process.exit(137);
};

process.on('SIGTERM', () => {});
process.on('SIGINT', () => {});
process.on('disconnect', killGroup);
// The channel closes when the runner dies; a re-parented guard is the fallback check.
if (!process.connected || process.ppid !== parent) killGroup();
setInterval(() => { if (process.ppid !== parent) killGroup(); }, 250).unref();

const child = spawn(file!, args, { stdio: ['ignore', 'inherit', 'inherit'] });
const rss = child.pid !== undefined ? watchPeakRss(child.pid) : undefined;

/** Tells the runner what the command used (its CPU, children it waited for included), then goes on. */
const reportUsage = (then: () => void): void => {
  const peakRssBytes = rss?.stop() ?? 0;
  if (!process.connected) return then();
  process.send!({ type: 'usage', cpuMs: Math.round(cpuTimes().children), peakRssBytes }, undefined, {}, () => then());
};
child.on('error', (e) => {
  process.stderr.write(`massflow: cannot run ${file}: ${e.message}\n`);
  process.send?.({ type: 'spawn-error', message: `${file}: ${e.message}` }, undefined, {}, () => process.exit(127));
});
child.on('exit', (code, signal) => reportUsage(() => {
  if (signal) {
    // Die of the same signal, so the runner sees exactly how the command ended.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
    setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), 100);
    return;
  }
  process.exit(code ?? 1);
}));
