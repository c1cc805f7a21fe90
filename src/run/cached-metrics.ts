// A stage found in the cache did not run here, but its metrics exist: the run that computed it
// recorded them. They are replayed as this run's events (marked with that run's id), so the run
// record, the headline metrics and the MLflow row of a partial rerun show results, not blanks.
import type { StageId } from '../core/brand.js';
import type { PlannedStage } from '../plan/decide.js';
import type { RunEvent } from '../core/run-events.js';
import { readRunRecord } from '../record/run-record.js';

interface Cached { from: string; at: number; metrics: Record<string, number> }

/** Reads, before the run starts, the recorded metrics of every stage the plan takes from the cache. */
export async function cachedMetrics(runsDir: string, plan: readonly PlannedStage[]): Promise<Map<StageId, Cached>> {
  const out = new Map<StageId, Cached>();
  await Promise.all(plan.map(async (p) => {
    if (p.decision.kind !== 'fresh' && p.decision.kind !== 'restore') return;
    const { entry } = p.decision;
    const metrics = (await readRunRecord(runsDir, entry.runId))?.stages[p.id]?.metrics;
    if (metrics && Object.keys(metrics).length > 0) out.set(p.id, { from: entry.runId, at: Date.parse(entry.createdAt) || Date.now(), metrics });
  }));
  return out;
}

/** The events to emit before a cached stage's end: one point per metric its producing run recorded. */
export function replayedMetrics(cached: ReadonlyMap<StageId, Cached>, e: RunEvent): RunEvent[] {
  if (e.type !== 'stage-end' || (e.outcome.kind !== 'fresh' && e.outcome.kind !== 'restored')) return [];
  const c = cached.get(e.id);
  if (!c || (e.outcome.fromRun !== undefined && e.outcome.fromRun !== c.from)) return [];
  return Object.entries(c.metrics).map(([key, value]) => ({ type: 'stage-metric', id: e.id, key, value, step: undefined, timestamp: c.at, from: c.from }));
}
