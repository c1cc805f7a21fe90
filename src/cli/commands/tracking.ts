// `massflow sync [RUN...]` and `massflow mlflow up|down`.
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { describeTrackingConfig, mlflowDown, mlflowUp, syncAll, syncRun, type SyncRunResult } from '../../track/index.js';
import { chooseTracking } from '../../run/tracking-setup.js';
import { layoutFrom, type CommonOptions } from '../common.js';
import { EXIT, UsageError, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../terminal.js';

function describeSync(r: SyncRunResult): string {
  switch (r.status) {
    case 'no-outbox': return `${r.runId}: nothing recorded for tracking`;
    case 'failed': return `${r.runId}: not delivered: ${r.message ?? 'unknown error'} (${r.pending} pending)`;
    case 'busy': return `${r.runId}: ${r.message ?? 'busy'}`;
    default: {
      const sent = r.sentOps ? `${r.sentOps} records sent (${r.sentPoints} metric points${r.skippedPoints ? `, ${r.skippedPoints} already on the server` : ''})` : 'nothing new to send';
      return `${r.runId}: ${sent}${r.pending ? `; ${r.pending} still pending` : ''}`;
    }
  }
}

export async function syncCommand(runs: string[], opts: CommonOptions & { trackingUri?: string; experiment?: string }, term: Terminal): Promise<ExitCode> {
  const layout = layoutFrom(opts);
  const choice = chooseTracking(layout.root, { ...(opts.trackingUri ? { uri: opts.trackingUri } : {}), ...(opts.experiment ? { experiment: opts.experiment } : {}) }, undefined);
  if (!choice.ok) throw new UsageError(`tracking settings: ${choice.messages.join('; ')}`);
  if (choice.config.mode !== 'server') throw new UsageError('no tracking server: set MLFLOW_TRACKING_URI, pass --tracking-uri, or start one with `massflow mlflow up`');
  term.out.write(`syncing to ${describeTrackingConfig(choice.config)}\n`);
  let results: SyncRunResult[];
  if (runs.length) {
    results = [];
    for (const id of runs) {
      const dir = join(layout.runsDir, id);
      if (!existsSync(dir)) throw new UsageError(`no run '${id}' under runs/`);
      results.push(await syncRun(dir, choice.config));
    }
  } else results = [...(await syncAll(layout.root, choice.config)).runs];
  for (const r of results) term.out.write(describeSync(r) + '\n');
  const failed = results.filter((r) => r.status === 'failed' || r.pending > 0).length;
  return failed ? EXIT.stageFailed : EXIT.ok;
}

export async function mlflowCommand(action: string, opts: CommonOptions & { port?: string }, term: Terminal): Promise<ExitCode> {
  const layout = layoutFrom(opts);
  if (action === 'up') {
    const port = opts.port === undefined ? undefined : Number(opts.port);
    if (port !== undefined && (!Number.isInteger(port) || port <= 0 || port > 65535)) throw new UsageError(`--port takes a port number, got '${opts.port}'`);
    term.out.write('starting the MLflow server (the first start installs MLflow in the per-user cache, which takes a minute; `massflow setup --mlflow` does it ahead)...\n');
    const r = await mlflowUp(layout.root, port === undefined ? {} : { port });
    if (!r.ok) {
      term.err.write(`error: ${r.error.message}\n${r.error.logTail ? r.error.logTail + '\n' : ''}`);
      return EXIT.usage;
    }
    term.out.write(`MLflow ${r.value.version} is up at ${r.value.url} (pid ${r.value.pid}); runs in this project now track there\n`);
    return EXIT.ok;
  }
  if (action === 'down') {
    const r = await mlflowDown(layout.root);
    if (!r.ok) { term.err.write(`error: ${r.error.message}\n`); return EXIT.usage; }
    term.out.write(r.value.stopped ? `stopped the MLflow server (pid ${r.value.pid})\n` : 'no MLflow server was running for this project\n');
    return EXIT.ok;
  }
  throw new UsageError(`unknown action '${action}': use 'massflow mlflow up' or 'massflow mlflow down'`);
}
