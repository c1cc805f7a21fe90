// The metric points of a sweep unit found in the cache, so the trials that use it record the same
// metrics as if it had run in them: the points the producing run streamed (with their steps), else
// the final values its record kept, else its metrics files.
import { readMetricsFile } from '../exec/metrics-file.js';
import type { Project } from '../project/open.js';
import { readRunPoints, readRunRecord } from '../record/run-record.js';
import type { Unit } from './plan.js';

export interface TimedPoint { key: string; value: number; step: number | undefined; timestamp: number }

/** Metrics of a unit that did not run now: the run that produced the cache entry recorded them. */
export async function cachedPoints(project: Project, u: Unit): Promise<TimedPoint[]> {
  if (u.decision.kind !== 'cached') return [];
  const { entry } = u.decision;
  // Every point with its step, as the stage streamed them: a trial that takes the unit from the
  // cache then records (and reports to a pruner) the same curve as one that ran it.
  const streamed = (await readRunPoints(project.layout.runsDir, entry.runId)).filter((p) => p.stage === entry.stage);
  if (streamed.length) return streamed.map(({ key, value, step, timestamp }) => ({ key, value, step, timestamp }));
  const rec = await readRunRecord(project.layout.runsDir, entry.runId);
  const at = Date.parse(entry.createdAt) || Date.now();
  const recorded = rec?.stages[entry.stage]?.metrics;
  if (recorded && Object.keys(recorded).length) return Object.entries(recorded).map(([key, value]) => ({ key, value, step: undefined, timestamp: at }));
  // That record is gone: the stage's declared metrics files are in the store.
  const out: TimedPoint[] = [];
  for (const m of u.stage.metrics) {
    const o = entry.outs[m];
    if (o?.kind !== 'file') continue;
    const r = await readMetricsFile(project.objects.objectPath(o.digest));
    if (r.ok) for (const p of r.points) out.push({ ...p, timestamp: at });
  }
  return out;
}
