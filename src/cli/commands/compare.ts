// `massflow compare EXPERIMENT|SWEEP|RUN...`
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readRunRecord, type RunRecord } from '../../record/run-record.js';
import { buildComparison, comparisonJson, comparisonLines, type CompareSource } from '../../sweep/compare.js';
import { projectRelative } from '../../sweep/detect.js';
import { latestSweepOf, readSweepRecord, type SweepRecord } from '../../sweep/record.js';
import type { Objective } from '../../sweep/schema.js';
import { objectivesOf } from '../../sweep/objective.js';
import { layoutFrom, type CommonOptions } from '../common.js';
import { EXIT, UsageError, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../terminal.js';

export interface CompareOptions extends CommonOptions {
  objective?: string;
  direction?: 'min' | 'max';
  metric?: string[];
  json?: boolean;
  plot?: string;
}

export async function compareCommand(args: string[], opts: CompareOptions, term: Terminal): Promise<ExitCode> {
  const layout = layoutFrom(opts);
  const sweeps: SweepRecord[] = [];
  const singles: RunRecord[] = [];
  for (const arg of args) {
    if (/\.ya?ml$/i.test(arg)) {
      const file = projectRelative(layout.root, arg);
      const s = await latestSweepOf(layout.runsDir, file);
      if (!s) throw new UsageError(`no sweep of ${file} in runs/ (run: massflow sweep ${file})`);
      sweeps.push(s);
      continue;
    }
    const s = await readSweepRecord(layout.runsDir, arg);
    if (s) { sweeps.push(s); continue; }
    const run = await readRunRecord(layout.runsDir, arg);
    if (!run) throw new UsageError(`no run, sweep or experiment named '${arg}' (run ids are the names under runs/)`);
    singles.push(run);
  }

  const sources: CompareSource[] = [];
  const missing: string[] = [];
  for (const s of sweeps) {
    for (const t of s.trials) {
      const record = await readRunRecord(layout.runsDir, t.runId);
      if (!record) { missing.push(t.runId); continue; }
      sources.push({ label: sweeps.length > 1 ? t.runId : t.name, record, variant: s.ablations.length ? t.ablation ?? 'baseline' : undefined });
    }
  }
  for (const record of singles) sources.push({ label: record.runId, record });

  let objectives: Objective[] = objectivesOf(sweeps.find((s) => s.objective)?.objective);
  if (opts.objective) {
    if (!/^[^/]+\/.+$/.test(opts.objective)) throw new UsageError(`--objective takes STAGE/KEY, got '${opts.objective}'`);
    objectives = [{ metric: opts.objective, direction: opts.direction ?? objectives[0]?.direction ?? 'min' }];
  } else if (opts.direction) {
    if (objectives.length !== 1) throw new UsageError(objectives.length ? `--direction with ${objectives.length} objectives: name the one to rank by with --objective STAGE/KEY` : '--direction needs an objective: add --objective STAGE/KEY');
    objectives = [{ ...objectives[0]!, direction: opts.direction }];
  }
  const c = buildComparison(sources, objectives, opts.metric ?? []);

  if (opts.json) term.out.write(comparisonJson(c));
  else {
    term.out.write(comparisonLines(c).join('\n') + '\n');
    if (missing.length) term.err.write(`${term.style.yellow('warning')}: no run record for ${missing.join(', ')} (trials that never started)\n`);
  }
  if (opts.plot) {
    if (!objectives.length) throw new UsageError('--plot draws the objective: the runs have none, add --objective STAGE/KEY');
    let png: Uint8Array;
    // Vega loads only when a plot is asked for.
    const { objectivePlotPng } = await import('../../sweep/plot.js');
    try { png = await objectivePlotPng(c); } catch (e) { throw new UsageError(`cannot plot: ${(e as Error).message}`); }
    await writeFile(resolve(opts.plot), png);
    if (!opts.json) term.out.write(`plot: ${opts.plot}\n`);
  }
  return EXIT.ok;
}
