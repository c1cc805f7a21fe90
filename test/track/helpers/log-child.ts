// A runner stand-in for the crash test: opens a Tracker against the server named in argv and logs
// metric points until it is killed. Prints "ready" once 2000 points are logged: the test asserts more
// than 1000 on disk, and the server can already hold the 500 the test waits for when "ready" comes,
// so a "ready" at 1000 let a prompt kill leave exactly 1000 (seen once under Node 24).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openTracker, resolveTrackingConfig } from '../../../src/track/index.js';
import { FAST_RETRY_ENV } from './server.js';

const [projectDir, runId, uri] = process.argv.slice(2) as [string, string, string];
const runDir = join(projectDir, 'runs', runId);
mkdirSync(runDir, { recursive: true });
const config = resolveTrackingConfig({ env: FAST_RETRY_ENV, flags: { uri } });
if (!config.ok) throw new Error(JSON.stringify(config.error));
const opened = await openTracker({ projectDir, runId, runDir, config: config.value, experimentName: 'crash', tuning: { flushIntervalMs: 10, windowOps: 700 } });
if (!opened.ok) throw new Error(opened.error.message);
const t = opened.value;
t.startRun('root', { name: 'crash' });
t.startRun('stage:a', { parentKey: 'root', name: 'a' });
let step = 0;
for (;;) {
  for (let i = 0; i < 50; i++, step++) {
    t.logMetric('stage:a', 'loss', Math.sin(step), step);
    t.logMetric('root', 'lr', 0.001, step);
  }
  if (step === 2000) process.stdout.write('ready\n');
  await new Promise((r) => setTimeout(r, 20));
}
