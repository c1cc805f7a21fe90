// The run's MLflow sink: a call the tracker refuses reaches the caller instead of vanishing.
import { describe, expect, it } from 'vitest';
import { asStageId } from '../../src/core/brand.js';
import type { RunEvent } from '../../src/core/run-events.js';
import { TrackingSink } from '../../src/run/tracking-sink.js';
import type { Pipeline } from '../../src/spec/model.js';
import { FakeTracker, type TrackError } from '../../src/track/index.js';

const pipeline = { name: 'p', file: 'massflow.yaml', params: { lr: 0.1 }, stages: [] } as unknown as Pipeline;
const fit = asStageId('fit');

describe('TrackingSink', () => {
  it('hands every refused tracker call to onRejected and goes on with the rest', () => {
    const tracker = new FakeTracker();
    const rejected: TrackError[] = [];
    const sink = new TrackingSink({ tracker, pipeline, runDir: '/nonexistent', fingerprints: new Map(), onRejected: (e) => rejected.push(e) });
    const events: RunEvent[] = [
      { type: 'run-start', runId: 'r1', pipeline: 'p', file: 'massflow.yaml', plan: [], jobs: 1, executor: 'local', at: 0 },
      { type: 'stage-start', id: fit, action: 'run', reason: { kind: 'never-run' }, at: 0 },
      { type: 'stage-metric', id: fit, key: 'bad key!', value: 1, step: 0, timestamp: 1 },
      { type: 'stage-metric', id: fit, key: 'loss', value: 0.5, step: 0, timestamp: 1 },
    ];
    for (const e of events) sink.sink(e);
    expect(rejected.map((e) => e.kind)).toEqual(['invalid-key']);
    expect(rejected[0]!.message).toContain('bad key!');
    expect(tracker.runs.get('stage:fit')!.metrics.map((m) => m.name)).toEqual(['loss']);
  });
});
