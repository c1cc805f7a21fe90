// The words for what happens in a run: reasons, changes, failures, skips and outcomes. The terminal
// views, the run record and MLflow all word the data of core/run-events.ts through these.
import type { Change, Failure, RemoteNote, RunReason, SkipCause, StageOutcome, StageReason } from '../core/run-events.js';
import { fmtBytes, fmtDuration } from './format.js';

const show = (v: unknown) => (v === undefined ? '(unset)' : typeof v === 'string' ? v : JSON.stringify(v));

/** One line per change, e.g. `params.fit.lr: 0.001 -> 0.0003`. */
export function describeChange(c: Change): string {
  switch (c.field) {
    case 'format': return `cache format: ${c.from} -> ${c.to}`;
    case 'params': return c.kind === 'changed' ? `params.${c.key}: ${show(c.from)} -> ${show(c.to)}` : `params.${c.key}: ${c.kind} (${show(c.kind === 'added' ? c.to : c.from)})`;
    case 'vars': return `vars.${c.key}: ${show(c.from)} -> ${show(c.to)}`;
    case 'code': return `code ${c.path} ${c.kind}`;
    case 'command': return `cmd: ${JSON.stringify(c.from)} -> ${JSON.stringify(c.to)}`;
    case 'deps': return c.kind === 'changed' ? `deps ${c.path}: digest changed` : `deps ${c.path}: ${c.kind}`;
    case 'upstream': return `upstream ${c.stage} ${c.kind}`;
    case 'outs': return `outs: ${JSON.stringify(c.from)} -> ${JSON.stringify(c.to)}`;
    case 'env': return `env.${c.key}: ${show(c.from)} -> ${show(c.to)}`;
    case 'lockfile': return 'lockfile changed';
    case 'backend': return `backend: ${c.from} -> ${c.to}`;
  }
}

/** A short reason for status lines: the first few changes. */
export function summarizeChanges(cs: readonly Change[], max = 2): string {
  if (cs.length === 0) return 'no change';
  const head = cs.slice(0, max).map(describeChange).join('; ');
  return cs.length > max ? `${head}; +${cs.length - max} more` : head;
}

export function describeRunReason(r: RunReason): string {
  switch (r.kind) {
    case 'forced': return 'forced';
    case 'never-run': return 'never run';
    case 'changed': return summarizeChanges(r.changes);
    case 'cache-disabled': return 'cache: false';
    case 'not-cached': return 'no cached result (last attempt failed, was interrupted, or was collected)';
    case 'outs-changed': return `outputs ${r.outs.join(', ')} changed since the last run`;
  }
}

/** Why a stage is fresh, restored or run: the reason column of the plan and of a stage's start. */
export function describeStageReason(r: StageReason): string {
  switch (r.kind) {
    case 'up-to-date': return 'up to date';
    case 'outputs-missing': return `outputs ${r.outs.join(', ')} not in the workspace${r.from === 'remote' ? ' (on the remote cache)' : ''}`;
    case 'entry-vanished': return 'cached result vanished';
    case 'shared': return `shared: ran in trial ${r.trial}`;
    case 'cached-elsewhere': return `cached: from run ${r.runId}`;
    default: return describeRunReason(r);
  }
}

/** A stage's start: its reason, and what the remote cache did for it. */
export function describeStageStart(e: { reason: StageReason; remote?: RemoteNote | undefined }): string {
  const reason = describeStageReason(e.reason);
  if (!e.remote) return reason;
  switch (e.remote.kind) {
    case 'fetched': return `${reason}; fetched from ${e.remote.url} (${e.remote.objects} object${e.remote.objects === 1 ? '' : 's'}, ${e.remote.bytes} bytes)`;
    case 'refused': return `${reason}; the remote's copy was not used: ${e.remote.message}`;
  }
}

export function describeFailure(f: Failure): string {
  switch (f.kind) {
    case 'exit': return f.signal ? `killed by ${f.signal}` : `exited with code ${f.code}`;
    case 'stage-error': return f.message;
    case 'spawn': return `could not start: ${f.message}`;
    case 'bad-module': return `bad stage module: ${f.message}`;
    case 'params': return `params rejected: ${f.message}`;
    case 'missing-output': return `did not write declared output${f.paths.length > 1 ? 's' : ''} ${f.paths.join(', ')}`;
    case 'resources': return f.resource === 'gpu'
      ? `needs ${f.needs} GPU slot(s), ${f.available} available (set --gpus or MASSFLOW_GPUS)`
      : `needs ${fmtBytes(f.needs)} of memory, the machine has ${fmtBytes(f.available)}`;
    case 'commit': return `could not commit outputs: ${f.message}`;
    case 'bookkeeping': return `${BOOKKEEPING[f.step]}: ${f.message}`;
    case 'executor': return f.message;
  }
}

const BOOKKEEPING: Record<Extract<Failure, { kind: 'bookkeeping' }>['step'], string> = {
  lock: 'could not lock its outputs',
  restore: 'could not restore its outputs from the cache',
  prepare: 'could not prepare its output paths',
  'trial-workspace': 'could not restore upstream outputs into the trial workspace',
};

export function describeSkip(c: SkipCause): string {
  switch (c.kind) {
    case 'upstream-failed': return `upstream ${c.upstream} failed`;
    case 'run-stopped': return `not started: the run stopped after ${c.after} failed (--keep-going runs the rest)`;
    case 'trial-pruned': return `not started: the trial was pruned at ${c.at}`;
  }
}

/** The detail column of an outcome: time, what was restored, why it failed or was skipped. */
export function outcomeDetail(o: StageOutcome): string {
  switch (o.kind) {
    case 'ran': return fmtDuration(o.durationMs);
    case 'restored': return `${fmtDuration(o.durationMs)}  from ${o.from === 'remote' ? 'remote cache' : 'cache'}: ${o.outs.join(', ')}`;
    case 'fresh': return 'up to date';
    case 'failed': return `${fmtDuration(o.durationMs)}  ${describeFailure(o.failure)}${o.jobId ? ` (job ${o.jobId})` : ''}`;
    case 'skipped': return describeSkip(o.cause);
    case 'cancelled': return 'stopped; nothing committed';
    case 'pruned': return `${fmtDuration(o.durationMs)}  pruned at step ${o.step}; nothing committed`;
  }
}

/** The GPUs a stage was given, for the start line: undefined when massflow does not manage GPUs. */
export function describeDevices(devices: readonly string[] | undefined): string | undefined {
  if (!devices) return undefined;
  return devices.length ? `gpu ${devices.join(',')}` : 'no gpu';
}
