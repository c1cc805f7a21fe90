// An in-memory Tracker for other modules' unit tests: records every call, validates like the real
// one where it matters to callers (unknown runs, duplicate starts, bad artifact paths, param
// changes), and touches neither disk nor network.
import { err, ok } from '../core/result.js';
import { flattenParams } from './params.js';
import { normalizeArtifactPath, defaultArtifactPath } from './paths.js';
import { keyProblem } from './mlflow/limits.js';
import type { DatasetInput, EndStatus, RunKey } from './ops.js';
import type { Tracker, TrackerSummary, TrackResult, TrackError } from './tracker.js';

export interface FakeRun {
  readonly key: RunKey;
  readonly parentKey?: RunKey;
  readonly name: string;
  readonly tags: Record<string, string>;
  readonly params: Record<string, string>;
  readonly metrics: { name: string; value: number; step: number; timestamp: number }[];
  readonly artifacts: { localPath: string; artifactPath: string }[];
  readonly inputs: DatasetInput[];
  status?: EndStatus;
}

export class FakeTracker implements Tracker {
  readonly outboxDir = '(fake)';
  readonly runs = new Map<RunKey, FakeRun>();
  /** Every call in order, for asserting sequences. */
  readonly calls: { method: string; key: RunKey; args: unknown[] }[] = [];
  closed = false;

  startRun(key: RunKey, o: { parentKey?: RunKey; name: string; tags?: Readonly<Record<string, string>> }): TrackResult {
    this.calls.push({ method: 'startRun', key, args: [o] });
    if (this.closed) return fail('closed', 'the tracker is closed');
    if (this.runs.has(key)) return fail('duplicate-run', `run ${key} was already started`);
    if (o.parentKey !== undefined && !this.runs.has(o.parentKey)) return fail('unknown-run', `parent run ${o.parentKey} of ${key} was not started`);
    this.runs.set(key, { key, ...(o.parentKey !== undefined && { parentKey: o.parentKey }), name: o.name, tags: { ...o.tags }, params: {}, metrics: [], artifacts: [], inputs: [] });
    return ok(undefined);
  }

  logParams(key: RunKey, params: Readonly<Record<string, unknown>>): TrackResult {
    this.calls.push({ method: 'logParams', key, args: [params] });
    const run = this.#run(key);
    if (!run.ok) return run;
    for (const [k, v] of Object.entries(flattenParams(params))) {
      const prev = run.value.params[k];
      if (prev !== undefined && prev !== v) return fail('param-conflict', `param ${k} of ${key} is already ${JSON.stringify(prev)}`);
      run.value.params[k] = v;
    }
    return ok(undefined);
  }

  logMetric(key: RunKey, name: string, value: number, step = 0, timestamp = Date.now()): TrackResult {
    this.calls.push({ method: 'logMetric', key, args: [name, value, step, timestamp] });
    const run = this.#run(key);
    if (!run.ok) return run;
    const bad = keyProblem(name);
    if (bad) return fail('invalid-key', `metric key ${JSON.stringify(name)} ${bad}`);
    run.value.metrics.push({ name, value, step, timestamp });
    return ok(undefined);
  }

  setTags(key: RunKey, tags: Readonly<Record<string, string>>): TrackResult {
    this.calls.push({ method: 'setTags', key, args: [tags] });
    const run = this.#run(key);
    if (!run.ok) return run;
    Object.assign(run.value.tags, tags);
    return ok(undefined);
  }

  logArtifact(key: RunKey, localPath: string, artifactPath?: string): TrackResult {
    this.calls.push({ method: 'logArtifact', key, args: [localPath, artifactPath] });
    const run = this.#run(key);
    if (!run.ok) return run;
    const path = normalizeArtifactPath(artifactPath ?? defaultArtifactPath(localPath));
    if (!path.ok) return fail('bad-artifact-path', `${key}: ${path.error}`);
    run.value.artifacts.push({ localPath, artifactPath: path.value });
    return ok(undefined);
  }

  logInputs(key: RunKey, datasets: readonly DatasetInput[]): TrackResult {
    this.calls.push({ method: 'logInputs', key, args: [datasets] });
    const run = this.#run(key);
    if (!run.ok) return run;
    run.value.inputs.push(...datasets);
    return ok(undefined);
  }

  endRun(key: RunKey, status: EndStatus): TrackResult {
    this.calls.push({ method: 'endRun', key, args: [status] });
    const run = this.#run(key);
    if (!run.ok) return run;
    run.value.status = status;
    return ok(undefined);
  }

  async close(): Promise<TrackerSummary> {
    this.closed = true;
    return { mode: 'offline', recorded: this.calls.length, delivered: 0, pending: this.calls.length, rejected: [], outboxDir: this.outboxDir, experiments: {} };
  }

  #run(key: RunKey): { ok: true; value: FakeRun } | { ok: false; error: TrackError } {
    if (this.closed) return { ok: false, error: { kind: 'closed', message: 'the tracker is closed' } };
    const r = this.runs.get(key);
    return r ? { ok: true, value: r } : { ok: false, error: { kind: 'unknown-run', message: `run ${key} was not started` } };
  }
}

function fail(kind: TrackError['kind'], message: string): TrackResult {
  return err({ kind, message });
}
