// Entry point of a TS stage's child process. It loads the stage module (TypeScript through tsx),
// checks its params against the stage's schema, runs it, and forwards everything on `ctx` to the
// runner: over IPC when forked locally, else appended to an events file (`--job F --events F`).
import { appendFileSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Value } from '@sinclair/typebox/value';
import { isStageDefinition, type StageContext } from '../stage/define.js';
import type { StageJob } from './executor.js';
import type { FromChild, ToChild } from './stage-protocol.js';
import { ownUsage } from './usage.js';

const abort = new AbortController();

/** Runs in a worker thread: kills the stage's group once the runner that forked it is gone. */
const WATCHDOG = `
const { workerData } = require('node:worker_threads');
setInterval(() => {
  if (process.ppid !== workerData.parent) { try { process.kill(-workerData.group, 'SIGKILL'); } catch {} }
}, 250);
`;

function makeSender(): (m: FromChild) => Promise<void> {
  const eventsIdx = process.argv.indexOf('--events');
  if (eventsIdx > 0) {
    const file = process.argv[eventsIdx + 1]!;
    return async (m) => { appendFileSync(file, JSON.stringify(m) + '\n'); };
  }
  return (m) => new Promise((res) => {
    if (!process.connected) return res();
    process.send!(m, undefined, {}, () => res());
  });
}

const send = makeSender();

async function runJob(job: StageJob): Promise<boolean> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(resolve(job.projectDir, job.impl.kind === 'ts' ? job.impl.module : '')).href)) as { default?: unknown };
  } catch (e) {
    await send({ type: 'error', kind: 'bad-module', message: `cannot load ${job.impl.kind === 'ts' ? job.impl.module : '?'}: ${(e as Error).message}`, stack: (e as Error).stack });
    return false;
  }
  const def = mod.default;
  if (!isStageDefinition(def)) {
    await send({ type: 'error', kind: 'bad-module', message: 'the module must `export default defineStage({ ... })`' });
    return false;
  }
  if (def.params && !Value.Check(def.params, job.params)) {
    const errs = [...Value.Errors(def.params, job.params)].slice(0, 5).map((e) => `${e.path.slice(1).replace(/\//g, '.') || '(root)'}: ${e.message}`);
    await send({ type: 'error', kind: 'params', message: errs.join('; ') });
    return false;
  }
  const pending: Promise<void>[] = [];
  const post = (m: FromChild) => { pending.push(send(m)); };
  const ctx: StageContext = {
    params: job.params,
    vars: job.vars,
    deps: job.deps,
    outs: job.outs,
    outDir: job.outs[0] ?? job.projectDir,
    metricsFiles: job.metrics,
    projectDir: job.projectDir,
    stageId: job.id,
    runId: job.runId,
    backend: job.backend,
    log: (...parts) => post({ type: 'log', line: parts.map((p) => (typeof p === 'string' ? p : inspect(p, { depth: 4 }))).join(' ') }),
    metric: (key, value, step) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`metric '${key}' must be a finite number, got ${String(value)}`);
      post({ type: 'metric', key, value, ...(step === undefined ? {} : { step }), timestamp: Date.now() });
    },
    artifact: (path, name) => post({ type: 'artifact', path: resolve(job.projectDir, path), ...(name === undefined ? {} : { name }) }),
    progress: (done, total) => post({ type: 'progress', done, total }),
    signal: abort.signal,
  };
  for (const m of job.metrics) await mkdir(resolve(m, '..'), { recursive: true });
  try {
    await def.run(ctx);
    await Promise.all(pending);
    await send({ type: 'done' });
    return true;
  } catch (e) {
    await Promise.all(pending);
    const err = e as Error;
    await send({ type: 'error', kind: 'stage-error', message: err?.message ?? String(e), stack: err?.stack });
    return false;
  }
}

process.on('message', (m: ToChild) => {
  if (m.type === 'start') void runJob(m.job).finally(() => send({ type: 'usage', ...ownUsage() }).finally(() => setTimeout(() => process.exit(0), 10).unref()));
  else if (m.type === 'abort') abort.abort(new Error('cancelled'));
});

// SIGTERM to the stage's group is the runner asking it to stop: the stage sees ctx.signal abort and
// has its stop grace to return before SIGKILL.
process.on('SIGTERM', () => abort.abort(new Error('cancelled')));

// Forked by a local runner (it names itself in MASSFLOW_RUNNER_PID): a runner that died, even by
// SIGKILL and even before this module got to run, must take the stage and every process it
// started (its group) with it. The channel's close is only noticed between callbacks, so a watchdog
// thread also checks for re-parenting while the stage computes without yielding.
const runner = Number(process.env['MASSFLOW_RUNNER_PID']);
if (runner > 0) {
  const killGroup = () => { try { process.kill(-process.pid, 'SIGKILL'); } catch { process.exit(1); } };
  if (!process.connected || process.ppid !== runner) killGroup();
  process.on('disconnect', killGroup);
  new Worker(WATCHDOG, { eval: true, workerData: { parent: runner, group: process.pid } }).unref();
}

const jobIdx = process.argv.indexOf('--job');
if (jobIdx > 0) {
  const job = JSON.parse(readFileSync(process.argv[jobIdx + 1]!, 'utf8')) as StageJob;
  void runJob(job).then((ok) => process.exit(ok ? 0 : 1));
}
