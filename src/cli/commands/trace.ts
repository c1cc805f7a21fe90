// `massflow trace [RUN]`: a run's timeline from its record, as Chrome trace-event JSON (Perfetto,
// chrome://tracing), optionally as a PNG, and as a table on the terminal.
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { readRunRecord, type RunRecord } from '../../record/run-record.js';
import { chromeTrace, traceOf } from '../../record/trace.js';
import { timelinePng, traceTable } from '../../report/timeline.js';
import { layoutFrom, type CommonOptions } from '../common.js';
import { EXIT, UsageError, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../terminal.js';

export interface TraceOptions extends CommonOptions {
  output?: string;
  png?: string;
}

/** The newest pipeline run under runs/ (run ids sort by time). */
async function latestRun(runsDir: string): Promise<RunRecord | undefined> {
  let ids: string[];
  try { ids = readdirSync(runsDir).sort().reverse(); } catch { return undefined; }
  for (const id of ids) {
    const r = await readRunRecord(runsDir, id);
    if (r?.kind === 'pipeline') return r;
  }
  return undefined;
}

export async function traceCommand(id: string | undefined, opts: TraceOptions, term: Terminal): Promise<ExitCode> {
  const layout = layoutFrom(opts);
  const record = id !== undefined ? await readRunRecord(layout.runsDir, id) : await latestRun(layout.runsDir);
  if (!record) throw new UsageError(id !== undefined ? `no run '${id}' in runs/ (a sweep's timeline is its trials': trace one of them)` : 'no run in runs/ yet: massflow run PIPELINE first');
  const trace = traceOf(record);
  const out = resolve(opts.output ?? join(layout.runsDir, record.runId, 'trace.json'));
  await writeFile(out, JSON.stringify(chromeTrace(trace)) + '\n');
  const lines = traceTable(trace);
  lines.push('', `trace: ${relative(process.cwd(), out) || out} (open in ui.perfetto.dev or chrome://tracing)`);
  if (opts.png !== undefined) {
    const png = resolve(opts.png);
    await writeFile(png, await timelinePng(trace));
    lines.push(`timeline: ${relative(process.cwd(), png) || png}`);
  }
  term.out.write(lines.join('\n') + '\n');
  return EXIT.ok;
}
