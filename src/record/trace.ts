// A run's timeline, from its record: each stage as a slice on the executor slot it ran in, with
// its resource use, and the Chrome trace-event JSON that Perfetto (ui.perfetto.dev) and
// chrome://tracing open. Slots are not recorded; they are recovered by putting each stage in the
// lowest slot free at its start, which is what a pool of `--jobs` workers looks like.
import type { RunTrace } from '../report/timeline.js';
import type { RunRecord } from './run-record.js';

export type { RunTrace, TraceSlice } from '../report/timeline.js';

/** The stages with a known place in time (started, or cached with an end), in start order. */
export function traceOf(record: RunRecord): RunTrace {
  const t0 = Date.parse(record.startedAt);
  const timed = Object.entries(record.stages).flatMap(([stage, s]) => {
    // From the stage's start event to its end event where both are recorded (the stage's own
    // durationMs also counts its bookkeeping before the start event); a cached stage only ends.
    const end = s.endedAt !== undefined ? Date.parse(s.endedAt) : NaN;
    const start = s.startedAt !== null ? Date.parse(s.startedAt) : end - (s.durationMs ?? 0);
    if (!Number.isFinite(start)) return [];
    const durationMs = Number.isFinite(end) ? Math.max(0, end - start) : s.durationMs ?? 0;
    return [{ stage, s, startMs: Math.max(0, start - t0), durationMs }];
  }).sort((a, b) => a.startMs - b.startMs || a.stage.localeCompare(b.stage));
  const busyUntil: number[] = [];
  const slices = timed.map(({ stage, s, startMs, durationMs }) => {
    let slot = busyUntil.findIndex((end) => end <= startMs);
    if (slot < 0) slot = busyUntil.push(0) - 1;
    busyUntil[slot] = startMs + durationMs;
    return {
      stage, outcome: s.outcome, startMs, durationMs, slot,
      cached: s.outcome === 'fresh' || s.outcome === 'restored',
      ...(s.usage && { cpuMs: s.usage.cpuMs, peakRssBytes: s.usage.peakRssBytes }),
      ...(s.from !== undefined && { from: s.from }),
    };
  });
  const end = Math.max(record.durationMs ?? 0, ...slices.map((x) => x.startMs + x.durationMs));
  return { runId: record.runId, pipeline: record.pipeline.name, durationMs: end, slots: busyUntil.length, slices };
}

/** Chrome's trace-event format: one complete event ("X") per stage, a thread per executor slot. */
export function chromeTrace(t: RunTrace): { traceEvents: object[]; displayTimeUnit: 'ms'; otherData: Record<string, string> } {
  const pid = 1;
  const meta = [
    { ph: 'M', name: 'process_name', pid, tid: 0, args: { name: `${t.pipeline} ${t.runId}` } },
    ...Array.from({ length: t.slots }, (_, i) => ({ ph: 'M', name: 'thread_name', pid, tid: i + 1, args: { name: `slot ${i + 1}` } })),
  ];
  const events = t.slices.map((x) => ({
    ph: 'X', pid, tid: x.slot + 1, name: x.stage, cat: x.cached ? `cached,${x.outcome}` : x.outcome,
    ts: x.startMs * 1000,
    // A cached stage takes no time; a microsecond keeps it visible.
    dur: Math.max(1, x.durationMs * 1000),
    args: {
      outcome: x.outcome, cached: x.cached,
      ...(x.cpuMs !== undefined && { cpu_ms: x.cpuMs }),
      ...(x.peakRssBytes !== undefined && { peak_rss_bytes: x.peakRssBytes }),
      ...(x.from !== undefined && { from_run: x.from }),
    },
  }));
  return { traceEvents: [...meta, ...events], displayTimeUnit: 'ms', otherData: { runId: t.runId, pipeline: t.pipeline } };
}
