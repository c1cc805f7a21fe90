// The delivery loop's retry decision, on its own: no server, no clock.
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY } from '../../src/track/mlflow/retry.js';
import { retryDecision, type RetryInput, type WindowFailure } from '../../src/track/retry-decision.js';

const noJitter = () => 0;
const failure = (f: Partial<WindowFailure> = {}): WindowFailure => ({ progress: false, configuration: false, attempts: 1, ...f });
const decide = (i: Partial<RetryInput>) => retryDecision({
  mode: 'live', policy: DEFAULT_RETRY_POLICY, failures: 0, failure: undefined, aborted: false, stopping: false, random: noJitter, ...i,
});

describe('retryDecision', () => {
  it('goes on to the next window after a window that got through, and forgets past failures', () => {
    expect(decide({ mode: 'live', failures: 5 })).toEqual({ kind: 'next', failures: 0 });
    expect(decide({ mode: 'sync', failures: 5 })).toEqual({ kind: 'next', failures: 0 });
  });

  it('stops at once when aborted, in both modes', () => {
    expect(decide({ mode: 'live', failure: failure(), aborted: true }).kind).toBe('stop');
    expect(decide({ mode: 'sync', failure: failure(), aborted: true }).kind).toBe('stop');
  });

  it('live: backs off on the official curve (0, 4, 8, 16 s ... capped at 120 s), never under 50 ms', () => {
    const waits = [0, 1, 2, 3, 4, 8, 20].map((failures) => decide({ failure: failure(), failures }));
    expect(waits.map((d) => d.kind)).toEqual(Array(7).fill('retry'));
    expect(waits.map((d) => (d.kind === 'retry' ? d.waitMs : -1))).toEqual([4000, 8000, 16_000, 32_000, 64_000, 120_000, 120_000]);
    expect(waits.map((d) => d.failures)).toEqual([1, 2, 3, 4, 5, 9, 21]);
    // The first retry of the official curve waits nothing; live delivery still waits 50 ms.
    expect(decide({ failure: failure({ progress: true }), failures: 3 })).toEqual({ kind: 'retry', failures: 0, waitMs: 50 });
  });

  it('live: never gives up while the run records, even on a configuration error; stops on one once closing', () => {
    expect(decide({ failure: failure({ attempts: 99 }), failures: 50 }).kind).toBe('retry');
    expect(decide({ failure: failure({ configuration: true }) }).kind).toBe('retry');
    expect(decide({ failure: failure({ configuration: true }), stopping: true }).kind).toBe('stop');
    expect(decide({ failure: failure(), stopping: true }).kind).toBe('retry');
  });

  it('honours Retry-After when it asks for longer than the backoff', () => {
    expect(decide({ failure: failure({ retryAfterMs: 30_000 }) })).toEqual({ kind: 'retry', failures: 1, waitMs: 30_000 });
    expect(decide({ mode: 'sync', failure: failure({ retryAfterMs: 30_000 }) })).toEqual({ kind: 'retry', failures: 1, waitMs: 30_000 });
  });

  it('sync: gives up on a configuration error, on a request the transport already retried to exhaustion, and after maxRetries windows without progress', () => {
    expect(decide({ mode: 'sync', failure: failure({ configuration: true }) }).kind).toBe('stop');
    expect(decide({ mode: 'sync', failure: failure({ attempts: DEFAULT_RETRY_POLICY.maxRetries + 1 }) }).kind).toBe('stop');
    expect(decide({ mode: 'sync', failure: failure({ attempts: DEFAULT_RETRY_POLICY.maxRetries }) }).kind).toBe('retry');
    expect(decide({ mode: 'sync', failure: failure(), failures: DEFAULT_RETRY_POLICY.maxRetries - 1 }).kind).toBe('retry');
    expect(decide({ mode: 'sync', failure: failure(), failures: DEFAULT_RETRY_POLICY.maxRetries })).toEqual({ kind: 'stop', failures: DEFAULT_RETRY_POLICY.maxRetries + 1 });
  });

  it('sync: a window that made progress resets the count and is resent at once', () => {
    expect(decide({ mode: 'sync', failure: failure({ progress: true }), failures: 6 })).toEqual({ kind: 'retry', failures: 0, waitMs: 0 });
    expect(decide({ mode: 'sync', failure: failure(), failures: 0 })).toEqual({ kind: 'retry', failures: 1, waitMs: 4000 });
  });
});
