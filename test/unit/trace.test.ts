// A run's timeline from its record: stages placed on the lowest slot free at their start, cached
// ones marked, and the Chrome trace events Perfetto reads.
import { describe, expect, it } from 'vitest';
import type { RunRecord, StageRecord } from '../../src/record/run-record.js';
import { chromeTrace, traceOf } from '../../src/record/trace.js';
import { timelineSvg } from '../../src/report/timeline.js';

const T0 = Date.parse('2026-12-07T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const stage = (o: Partial<StageRecord>): StageRecord => ({
  fingerprint: 'f' as never, outcome: 'ran', reason: '', startedAt: null, durationMs: null, outputs: {}, metrics: {}, artifacts: [], failure: null, skipped: null, log: '', ...o,
});
const record = {
  runId: 'r1', startedAt: at(0), durationMs: 5000, pipeline: { name: 'paper' },
  stages: {
    prep: stage({ outcome: 'fresh', durationMs: 0, endedAt: at(100), from: 'r0' }),
    'fit@fold=0': stage({ startedAt: at(200), endedAt: at(3200), durationMs: 3050, usage: { cpuMs: 2900, peakRssBytes: 5e8 } }),
    'fit@fold=1': stage({ startedAt: at(300), endedAt: at(2300), durationMs: 2000 }),
    report: stage({ startedAt: at(2400), endedAt: at(2900), durationMs: 500 }),
    never: stage({ outcome: 'skipped' }),
  },
} as unknown as RunRecord;

describe('traceOf', () => {
  it('puts each stage on the lowest slot free at its start, from its start event to its end event', () => {
    const t = traceOf(record);
    expect(t.slots).toBe(2);
    expect(t.slices.map((s) => [s.stage, s.slot, s.startMs, s.durationMs, s.cached])).toEqual([
      ['prep', 0, 100, 0, true], ['fit@fold=0', 0, 200, 3000, false], ['fit@fold=1', 1, 300, 2000, false], ['report', 1, 2400, 500, false],
    ]);
    const events = chromeTrace(t).traceEvents as { ph: string; name: string; tid: number; ts: number; dur: number; args: object }[];
    expect(events.filter((e) => e.ph === 'X').map((e) => [e.name, e.tid, e.ts, e.dur])).toEqual([
      ['prep', 1, 100_000, 1], ['fit@fold=0', 1, 200_000, 3_000_000], ['fit@fold=1', 2, 300_000, 2_000_000], ['report', 2, 2_400_000, 500_000],
    ]);
    expect(events.find((e) => e.name === 'fit@fold=0')!.args).toEqual({ outcome: 'ran', cached: false, cpu_ms: 2900, peak_rss_bytes: 5e8 });
    const svg = timelineSvg(t);
    expect(svg).toContain('4 stages on 2 slots');
    // The cached stage took no time: a hollow diamond.
    expect(svg).toMatch(/<path d="M[^"]+Z" fill="#ffffff"[^>]*><title>prep: fresh, 0\.0s<\/title>/);
  });
});
