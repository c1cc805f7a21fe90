// Closing a tracker whose server never answers: the close deadline cuts delivery short while the
// client is still inside its own retries, and the summary says why points are left, with every
// point kept in the outbox for `massflow sync`.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTracker, resolveTrackingConfig } from '../../src/track/index.js';
import { FAST_RETRY_ENV, freePort } from './helpers/server.js';

describe('tracker close deadline', () => {
  it('reports the deadline as the reason when no delivery error came back in time', async () => {
    const port = await freePort(); // nothing listens there: every connection is refused
    const config = resolveTrackingConfig({ env: FAST_RETRY_ENV, flags: { uri: `http://127.0.0.1:${port}` } });
    if (!config.ok) throw new Error(JSON.stringify(config.error));
    const projectDir = mkdtempSync(join(tmpdir(), 'mf-close-'));
    const runDir = join(projectDir, 'runs', 'r1');
    mkdirSync(runDir, { recursive: true });
    const opened = await openTracker({ projectDir, runId: 'r1', runDir, config: config.value, experimentName: 'close', tuning: { flushIntervalMs: 10 } });
    if (!opened.ok) throw new Error(opened.error.message);
    const t = opened.value;
    expect(t.startRun('root', { name: 'root' }).ok).toBe(true);
    for (let s = 0; s < 50; s++) t.logMetric('root', 'loss', 1 / (s + 1), s);
    t.endRun('root', 'FINISHED');
    // The client retries a refused connection 7 times over ~5 s (FAST_RETRY_ENV): longer than the deadline.
    const summary = await t.close({ flushTimeoutMs: 300 });
    expect(summary.delivered).toBe(0);
    expect(summary.pending).toBe(summary.recorded);
    expect(summary.recorded).toBeGreaterThan(50);
    expect(summary.lastError).toBe('delivery did not finish within the 300 ms close deadline (the server was slow or unreachable)');
  });
});
