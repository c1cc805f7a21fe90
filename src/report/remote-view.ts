// Renders remote transfers: a live progress bar on an interactive terminal, and the summary lines
// of a push or pull (what moved, what was already there, what failed and why).
import type { PullReport } from '../remote/pull.js';
import type { PushReport, TransferPhase } from '../remote/push.js';
import type { Output } from './run-view.js';
import type { Style } from './format.js';

export const fmtBytes = (n: number) => (n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : n < 1e9 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e9).toFixed(2)} GB`);
const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

const WIDTH = 24;
const REDRAW_MS = 100;

/** A one-line bar redrawn in place (stderr, interactive terminals only); `end` clears it. */
export function progressBar(err: Output, live: boolean) {
  let last = 0;
  let drawn = false;
  return {
    update(p: { phase: TransferPhase; done: number; total: number; bytes: number }) {
      if (!live || (Date.now() - last < REDRAW_MS && p.done !== p.total)) return;
      last = Date.now();
      const filled = p.total ? Math.round((WIDTH * p.done) / p.total) : WIDTH;
      err.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${p.phase} ${p.done}/${p.total} ${fmtBytes(p.bytes)}`);
      drawn = true;
    },
    end() { if (drawn) err.write('\r\x1b[2K'); },
  };
}

export function pushLines(r: PushReport, url: string, style: Style): string[] {
  const lines = [`pushed ${count(r.entries.pushed, 'entry', 'entries')} and ${count(r.objects.uploaded, 'object', 'objects')} (${fmtBytes(r.objects.bytes)}) to ${url}; already there: ${count(r.entries.present, 'entry', 'entries')} (with their objects) and ${count(r.objects.present, 'other object', 'other objects')}`];
  for (const p of r.problems) lines.push(`${style.yellow('not pushed')} ${p.what}: ${p.message}`);
  if (r.unreachable) lines.push(`${style.red('remote unreachable')}: ${r.unreachable}`);
  return lines;
}

export function pullLines(r: PullReport, url: string, style: Style): string[] {
  const lines = [
    `pulled ${count(r.entries.pulled, 'entry', 'entries')} and ${count(r.objects.downloaded, 'object', 'objects')} (${fmtBytes(r.objects.bytes)}) from ${url}; ` +
      `${r.entries.local} already in the local cache, ${r.entries.absent} not on the remote`,
  ];
  for (const key of r.corrupt) lines.push(`${style.red('refused')} ${url}/${key}: its content does not match its digest`);
  for (const p of r.problems) lines.push(`${style.yellow('not pulled')} ${p.what}: ${p.message}`);
  if (r.unreachable) lines.push(`${style.red('remote unreachable')}: ${r.unreachable}`);
  if (r.entries.pulled) lines.push('`massflow run` restores them into the workspace without running them');
  return lines;
}

/** After a run with `remote.push: auto`. */
export function autoPushLines(r: PushReport, url: string, style: Style): string[] {
  if (!r.problems.length && !r.unreachable) {
    return [`remote: pushed ${count(r.entries.pushed + r.entries.present, 'entry', 'entries')} (${count(r.objects.uploaded, 'new object', 'new objects')}, ${fmtBytes(r.objects.bytes)}) to ${url}`];
  }
  return [
    `${style.yellow('remote')}: ${r.problems.length} of ${r.problems.length + r.entries.pushed + r.entries.present} entries not pushed to ${url}; the run's results are in the local cache and \`massflow push RUN\` sends them later`,
    ...r.problems.map((p) => `  ${p.what}: ${p.message}`),
  ];
}
