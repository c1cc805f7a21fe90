// The Tracker the runner calls while a run executes. Every call is validated, then appended to the
// run's outbox; nothing waits on the network. When a server is configured, a background loop
// delivers what is on disk, window by window; a dead, slow or failing server only leaves ops
// queued for the next run or `massflow sync`. Methods return results: tracking never fails a run.
import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { TrackingConfig } from './config.js';
import { createClient, redactorFor } from './client-factory.js';
import { Deliverer } from './deliver.js';
import { LIMITS, keyProblem, truncate } from './mlflow/limits.js';
import { backoffMs, sleep } from './mlflow/retry.js';
import type { MlflowClient } from './mlflow/client.js';
import { encodeValue, type EndStatus, type OpDraft, type RunKey } from './ops.js';
import { OutboxWriter, readOutbox, readPending, type OutboxEntry } from './outbox.js';
import { flattenParams } from './params.js';
import { defaultArtifactPath, normalizeArtifactPath } from './paths.js';
import { err, ok, type Result } from '../core/result.js';
import { REDACTED, isSecretKey, type Redactor } from './secret.js';
import { acquireLock, loadState, type Rejection, type SyncState } from './state.js';

export const TRACKING_DIR = 'tracking';

/** Ops held in memory for delivery; beyond this, a backlog is read back from the outbox by window. */
const MAX_QUEUED = 200_000;

export interface OpenTrackerOptions {
  readonly projectDir: string;
  /** The massflow run id (tagged `massflow.run_id` on every MLflow run). */
  readonly runId: string;
  /** runs/<run-id>; the outbox goes to <runDir>/tracking/. */
  readonly runDir: string;
  readonly config: TrackingConfig;
  /** Pipeline or experiment-file name; the experiment unless the config names one. */
  readonly experimentName: string;
  /** Git commit of the project, for `mlflow.source.git.commit`. */
  readonly gitCommit?: string;
  /** `mlflow.source.name`: the spec file, e.g. `pipelines/paper.yaml`. Defaults to `massflow`. */
  readonly sourceName?: string;
  /** `mlflow.user`; defaults to the OS user. */
  readonly user?: string;
  /** Where secrets are looked up for redaction; defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Non-fatal notices (a truncated value, a redacted param, delivery trouble). Never contains a secret. */
  readonly onWarning?: (message: string) => void;
  readonly tuning?: TrackerTuning;
}

export interface TrackerTuning {
  /** Ops per delivery window (default 10 000). */
  readonly windowOps?: number;
  /** Parallel requests per window (default 4). */
  readonly concurrency?: number;
  /** Longest time an op waits before it is written and fsync'd (default 200 ms). */
  readonly flushIntervalMs?: number;
  /** Ops held in memory for delivery before a backlog is read back from disk (default 200 000). */
  readonly maxQueued?: number;
}

export type TrackErrorKind =
  | 'invalid-key' | 'invalid-value' | 'unknown-run' | 'duplicate-run' | 'param-conflict'
  | 'bad-artifact-path' | 'missing-file' | 'closed' | 'outbox-failed';

export interface TrackError {
  readonly kind: TrackErrorKind;
  readonly message: string;
}

export type TrackResult = Result<void, TrackError>;

export interface TrackerSummary {
  readonly mode: 'offline' | 'server';
  /** Ops written to the outbox (all time, for this run). */
  readonly recorded: number;
  /** Ops the server acknowledged (or refused for good, see `rejected`). */
  readonly delivered: number;
  /** Ops on disk waiting for `massflow sync` or the next run. */
  readonly pending: number;
  readonly rejected: readonly Rejection[];
  /** The last delivery problem, if any (secrets masked). */
  readonly lastError?: string;
  readonly outboxDir: string;
}

export interface Tracker {
  readonly outboxDir: string;
  /** Starts an MLflow run for `key`; `parentKey` nests it (tag mlflow.parentRunId). */
  startRun(key: RunKey, opts: { parentKey?: RunKey; name: string; tags?: Readonly<Record<string, string>> }): TrackResult;
  /** Params; nested objects are flattened (`{fit:{lr:1}}` -> `fit.lr`). A param cannot change value. */
  logParams(key: RunKey, params: Readonly<Record<string, unknown>>): TrackResult;
  /** One metric point; `step` defaults to 0, `timestamp` (ms) to now. */
  logMetric(key: RunKey, metricKey: string, value: number, step?: number, timestamp?: number): TrackResult;
  setTags(key: RunKey, tags: Readonly<Record<string, string>>): TrackResult;
  /** A file or directory, uploaded under `artifactPath` (default: its base name) in the run's artifacts. */
  logArtifact(key: RunKey, localPath: string, artifactPath?: string): TrackResult;
  endRun(key: RunKey, status: EndStatus): TrackResult;
  /** Flushes the outbox, gives delivery up to `flushTimeoutMs` to finish, and stops. */
  close(opts?: { flushTimeoutMs?: number }): Promise<TrackerSummary>;
}

const OK: TrackResult = ok(undefined);
const fail = (kind: TrackErrorKind, message: string): TrackResult => err({ kind, message });

export async function openTracker(opts: OpenTrackerOptions): Promise<Result<Tracker, TrackError>> {
  const outboxDir = join(opts.runDir, TRACKING_DIR);
  const server = opts.config.mode === 'server' ? opts.config.server : undefined;
  const redactor = redactorFor(server, opts.env ?? process.env);
  let opened: Awaited<ReturnType<typeof OutboxWriter.open>>;
  try {
    opened = await OutboxWriter.open(outboxDir, {
      redactor,
      ...(opts.tuning?.flushIntervalMs !== undefined && { flushIntervalMs: opts.tuning.flushIntervalMs }),
    });
  } catch (e) {
    return err({ kind: 'outbox-failed', message: `cannot open the tracking outbox in ${outboxDir}: ${(e as Error).message}` });
  }
  return ok(new TrackerImpl(opts, outboxDir, opened.writer, opened.existing, redactor));
}

interface LocalRun {
  readonly params: Map<string, string>;
}

class TrackerImpl implements Tracker {
  readonly outboxDir: string;
  readonly #opts: OpenTrackerOptions;
  readonly #writer: OutboxWriter;
  readonly #redactor: Redactor;
  readonly #runs = new Map<RunKey, LocalRun>();
  readonly #validMetricKeys = new Set<string>();
  readonly #systemTags: Record<string, string>;
  readonly #experiment: string;
  #closed = false;
  #closing: Promise<TrackerSummary> | undefined;

  // Delivery (server mode only).
  #state: SyncState | undefined;
  #client: MlflowClient | undefined;
  #release: (() => void) | undefined;
  #queue: OutboxEntry[] = [];
  /** The backlog outgrew memory: windows are read from the outbox file. */
  #spilled = false;
  readonly #maxQueued: number;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #stopping = false;
  readonly #abort = new AbortController();
  #lastError: string | undefined;

  constructor(opts: OpenTrackerOptions, outboxDir: string, writer: OutboxWriter, existing: OutboxEntry[], redactor: Redactor) {
    this.#opts = opts;
    this.outboxDir = outboxDir;
    this.#writer = writer;
    this.#redactor = redactor;
    this.#experiment = opts.config.experiment ?? opts.experimentName;
    this.#maxQueued = opts.tuning?.maxQueued ?? MAX_QUEUED;
    this.#systemTags = {
      'mlflow.user': opts.user ?? osUser(),
      'mlflow.source.name': opts.sourceName ?? 'massflow',
      'mlflow.source.type': 'LOCAL',
      ...(opts.gitCommit && { 'mlflow.source.git.commit': opts.gitCommit }),
      'massflow.run_id': opts.runId,
    };
    // A continued outbox (same run id opened again): its runs exist already.
    for (const { op } of existing) if (op.op === 'start') this.#runs.set(op.key, { params: new Map() });
    for (const { op } of existing) if (op.op === 'params') for (const [k, v] of Object.entries(op.params)) this.#runs.get(op.key)?.params.set(k, v);

    if (opts.config.mode === 'server') this.#startDelivery(opts, existing);
  }

  // ---- the runner's calls ----------------------------------------------------------------------

  startRun(key: RunKey, o: { parentKey?: RunKey; name: string; tags?: Readonly<Record<string, string>> }): TrackResult {
    if (this.#closed) return fail('closed', 'the tracker is closed');
    if (typeof key !== 'string' || key === '' || key.length > 200) return fail('invalid-key', `run key ${JSON.stringify(key)} must be 1..200 characters`);
    if (this.#runs.has(key)) return fail('duplicate-run', `run ${key} was already started`);
    if (o.parentKey !== undefined && !this.#runs.has(o.parentKey)) return fail('unknown-run', `parent run ${o.parentKey} of ${key} was not started`);
    const tags = this.#cleanTags(o.tags ?? {}, `run ${key}`);
    if (!tags.ok) return tags;
    const name = truncate(this.#redactor.redact(o.name || key), LIMITS.keyLength).value;
    this.#runs.set(key, { params: new Map() });
    return this.#append({
      op: 'start', key, t: Date.now(), name,
      ...(o.parentKey !== undefined ? { parent: o.parentKey } : { experiment: this.#experiment }),
      tags: { ...this.#systemTags, ...tags.value },
    });
  }

  logParams(key: RunKey, params: Readonly<Record<string, unknown>>): TrackResult {
    const run = this.#run(key);
    if (!run.ok) return run;
    const flat = flattenParams(params);
    const out: Record<string, string> = {};
    const problems: string[] = [];
    for (const [k, raw] of Object.entries(flat)) {
      const bad = keyProblem(k);
      if (bad) {
        problems.push(`param key ${JSON.stringify(k)} ${bad}`);
        continue;
      }
      let value = raw;
      if (isSecretKey(k)) {
        value = REDACTED;
        this.#warn(`param ${k} of ${key} looks like a credential; its value is replaced by ${REDACTED}`);
      }
      const cut = truncate(this.#redactor.redact(value), LIMITS.paramValueLength);
      if (cut.truncated) this.#warn(`param ${k} of ${key} is longer than ${LIMITS.paramValueLength} characters; it is cut to that length`);
      const prev = run.value.params.get(k);
      if (prev !== undefined) {
        if (prev !== cut.value) problems.push(`param ${k} of ${key} is already ${JSON.stringify(prev)}; MLflow params cannot change value (use a metric or a tag)`);
        continue;
      }
      out[k] = cut.value;
    }
    if (Object.keys(out).length > 0) {
      for (const [k, v] of Object.entries(out)) run.value.params.set(k, v);
      const r = this.#append({ op: 'params', key, t: Date.now(), params: out });
      if (!r.ok) return r;
    }
    if (problems.length > 0) return fail(problems.some((p) => p.includes('cannot change')) ? 'param-conflict' : 'invalid-key', problems.join('; '));
    return OK;
  }

  logMetric(key: RunKey, metricKey: string, value: number, step = 0, timestamp = Date.now()): TrackResult {
    const run = this.#run(key);
    if (!run.ok) return run;
    if (!this.#validMetricKeys.has(metricKey)) {
      const bad = keyProblem(metricKey);
      if (bad) return fail('invalid-key', `metric key ${JSON.stringify(metricKey)} ${bad}`);
      // Training loops log the same few keys thousands of times: check each once.
      this.#validMetricKeys.add(metricKey);
    }
    if (typeof value !== 'number') return fail('invalid-value', `metric ${metricKey} of ${key}: value must be a number, got ${typeof value}`);
    if (!Number.isSafeInteger(step)) return fail('invalid-value', `metric ${metricKey} of ${key}: step must be an integer, got ${step}`);
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) return fail('invalid-value', `metric ${metricKey} of ${key}: timestamp must be a non-negative integer (ms), got ${timestamp}`);
    return this.#append({ op: 'metric', key, t: timestamp, name: metricKey, value: encodeValue(value), step });
  }

  setTags(key: RunKey, tags: Readonly<Record<string, string>>): TrackResult {
    const run = this.#run(key);
    if (!run.ok) return run;
    const clean = this.#cleanTags(tags, `run ${key}`);
    if (!clean.ok) return clean;
    if (Object.keys(clean.value).length === 0) return OK;
    return this.#append({ op: 'tags', key, t: Date.now(), tags: clean.value });
  }

  logArtifact(key: RunKey, localPath: string, artifactPath?: string): TrackResult {
    const run = this.#run(key);
    if (!run.ok) return run;
    const local = isAbsolute(localPath) ? localPath : resolve(this.#opts.projectDir, localPath);
    const path = normalizeArtifactPath(artifactPath ?? defaultArtifactPath(local));
    if (!path.ok) return fail('bad-artifact-path', `${key}: ${path.error}`);
    try {
      statSync(local);
    } catch {
      return fail('missing-file', `${key}: artifact ${local} does not exist`);
    }
    return this.#append({ op: 'artifact', key, t: Date.now(), local, path: path.value });
  }

  endRun(key: RunKey, status: EndStatus): TrackResult {
    const run = this.#run(key);
    if (!run.ok) return run;
    if (status !== 'FINISHED' && status !== 'FAILED' && status !== 'KILLED') return fail('invalid-value', `end status ${String(status)} is not FINISHED, FAILED or KILLED`);
    return this.#append({ op: 'end', key, t: Date.now(), status });
  }

  close(o: { flushTimeoutMs?: number } = {}): Promise<TrackerSummary> {
    this.#closing ??= this.#close(o.flushTimeoutMs ?? 10_000);
    return this.#closing;
  }

  // ---- internals -------------------------------------------------------------------------------

  #run(key: RunKey): Result<LocalRun, TrackError> {
    if (this.#closed) return err({ kind: 'closed', message: 'the tracker is closed' });
    const run = this.#runs.get(key);
    return run ? ok(run) : err({ kind: 'unknown-run', message: `run ${key} was not started (call startRun first)` });
  }

  #append(draft: OpDraft): TrackResult {
    if (this.#writer.error) return fail('outbox-failed', `the tracking outbox cannot be written: ${this.#writer.error.message}`);
    this.#writer.append(draft);
    return OK;
  }

  #cleanTags(tags: Readonly<Record<string, string>>, where: string): Result<Record<string, string>, TrackError> {
    const out: Record<string, string> = {};
    for (const [k, raw] of Object.entries(tags)) {
      const bad = keyProblem(k);
      if (bad) return err({ kind: 'invalid-key', message: `${where}: tag key ${JSON.stringify(k)} ${bad}` });
      let value = String(raw);
      if (isSecretKey(k)) {
        value = REDACTED;
        this.#warn(`tag ${k} of ${where} looks like a credential; its value is replaced by ${REDACTED}`);
      }
      const cut = truncate(this.#redactor.redact(value), LIMITS.tagValueLength);
      if (cut.truncated) this.#warn(`tag ${k} of ${where} is longer than ${LIMITS.tagValueLength} characters; it is cut to that length`);
      out[k] = cut.value;
    }
    return ok(out);
  }

  #warn(message: string): void {
    this.#opts.onWarning?.(this.#redactor.redact(message));
  }

  #startDelivery(opts: OpenTrackerOptions, existing: OutboxEntry[]): void {
    if (opts.config.mode !== 'server') return;
    const server = opts.config.server;
    const lock = acquireLock(this.outboxDir, server.uri);
    if (!lock.ok) {
      this.#warn(`another process (pid ${lock.error.pid} on ${lock.error.host}) is delivering this run; ops stay queued for \`massflow sync\``);
      return;
    }
    const state = loadState(this.outboxDir, server.uri);
    if (!state.ok) {
      lock.value();
      this.#lastError = state.error;
      this.#warn(`tracking delivery is off for this run: ${state.error}`);
      return;
    }
    this.#release = lock.value;
    this.#state = state.value;
    this.#client = createClient(server, { redactor: this.#redactor, ...(opts.tuning?.concurrency !== undefined && { connections: opts.tuning.concurrency * 2 }) });
    this.#queue = existing.filter((e) => e.op.seq > state.value.acked);
    if (this.#queue.length > this.#maxQueued) {
      this.#spilled = true;
      this.#queue = [];
    }
    this.#writer.onDurable((batch) => {
      if (!this.#spilled) {
        this.#queue.push(...batch);
        // A long outage: stop holding the backlog in memory and read it back from disk by window.
        if (this.#queue.length > this.#maxQueued) {
          this.#spilled = true;
          this.#queue = [];
        }
      }
      this.#wake?.();
    });
    this.#loop = this.#deliverLoop();
  }

  async #deliverLoop(): Promise<void> {
    const state = this.#state!;
    const server = this.#opts.config.mode === 'server' ? this.#opts.config.server : undefined;
    const deliverer = new Deliverer({
      client: this.#client!,
      trackingDir: this.outboxDir,
      state,
      massflowRunId: this.#opts.runId,
      readAcked: () => readOutbox(this.outboxDir).entries.filter((e) => e.op.seq <= state.acked),
      concurrency: this.#opts.tuning?.concurrency ?? 4,
      signal: this.#abort.signal,
    });
    const windowOps = this.#opts.tuning?.windowOps ?? 10_000;
    let failures = 0;
    let reported = false;
    while (!this.#abort.signal.aborted) {
      const window = this.#nextWindow(windowOps);
      if (window.length === 0) {
        if (this.#stopping) return;
        await new Promise<void>((r) => (this.#wake = r));
        this.#wake = undefined;
        continue;
      }
      let outcome;
      try {
        outcome = await deliverer.deliverWindow(window);
      } catch (e) {
        // Not a server problem (the sync state cannot be written): stop delivering, keep the outbox.
        this.#lastError = `tracking delivery stopped: ${(e as Error).message}`;
        this.#warn(this.#lastError);
        return;
      }
      for (const r of outcome.stats.rejected) this.#warn(`MLflow refused ${r.what}: ${r.reason}`);
      if (outcome.ok) {
        failures = 0;
        reported = false;
        continue;
      }
      if (this.#abort.signal.aborted) return;
      // Wrong URI, credentials or TLS: no retry will help, so closing does not wait on it.
      if (outcome.error.configuration && this.#stopping) {
        this.#lastError = outcome.error.message;
        return;
      }
      // A window that got some writes through is retried at once (it reconciles first); one that
      // got nothing through backs off on the official curve.
      failures = outcome.stats.progress ? 0 : failures + 1;
      this.#lastError = outcome.error.message;
      if (!reported) {
        // Once per outage, not once per retry.
        this.#warn(`MLflow server unavailable, tracking continues on disk: ${outcome.error.message}`);
        reported = true;
      }
      const wait = Math.max(backoffMs(server!.retry, Math.min(failures + 1, 10)), outcome.error.retryAfterMs ?? 0, 50);
      try {
        await sleep(wait, this.#abort.signal);
      } catch {
        return;
      }
    }
  }

  /**
   * The next ops to deliver: exactly those after state.acked, in order. Served from memory while
   * the queue lines up with the acknowledged position; read from disk after a spill, or if the
   * queue ever has a gap (a window must never skip an op, or acknowledging it would lose one).
   */
  #nextWindow(windowOps: number): OutboxEntry[] {
    const state = this.#state!;
    let drop = 0;
    while (drop < this.#queue.length && this.#queue[drop]!.op.seq <= state.acked) drop++;
    if (drop > 0) this.#queue.splice(0, drop);
    if (!this.#spilled) {
      if (this.#queue.length === 0 || this.#queue[0]!.op.seq === state.acked + 1) return this.#queue.slice(0, windowOps);
      this.#spilled = true;
      this.#queue = [];
    }
    const fromDisk = readPending(this.outboxDir, state.acked, state.offset, windowOps);
    if (fromDisk.length < windowOps) {
      // Caught up with the file: what is flushed from now on is queued in memory again. (Reading
      // is synchronous, so no flush can land between this read and the switch.)
      this.#spilled = false;
      this.#queue = [];
    }
    return fromDisk;
  }

  async #close(flushTimeoutMs: number): Promise<TrackerSummary> {
    this.#closed = true;
    let cutShort = false;
    const deadline = setTimeout(() => {
      cutShort = true;
      this.#abort.abort(new Error('tracker close: flush timeout'));
    }, Math.max(0, flushTimeoutMs));
    try {
      await this.#writer.close();
      this.#stopping = true;
      this.#wake?.();
      await this.#loop;
    } finally {
      clearTimeout(deadline);
      this.#abort.abort(new Error('tracker closed'));
      await this.#client?.close().catch(() => undefined);
      this.#release?.();
    }
    const recorded = this.#writer.lastSeq;
    // Without a live deliverer (lock held elsewhere), the state on disk still says what was sent.
    const state = this.#state ?? (this.#opts.config.mode === 'server' ? loadStateOrUndefined(this.outboxDir, this.#opts.config.server.uri) : undefined);
    const acked = state?.acked ?? 0;
    // A window still inside the client's own retries when the deadline hit has not reported its
    // error yet; the summary must still say why points are left.
    if (cutShort && recorded > acked && this.#lastError === undefined) {
      this.#lastError = `delivery did not finish within the ${flushTimeoutMs} ms close deadline (the server was slow or unreachable)`;
    }
    const summary: TrackerSummary = {
      mode: this.#opts.config.mode,
      recorded,
      delivered: acked,
      pending: recorded - acked,
      rejected: state?.rejected ?? [],
      outboxDir: this.outboxDir,
      ...(this.#lastError !== undefined && { lastError: this.#lastError }),
      ...(this.#writer.error && { lastError: `the tracking outbox cannot be written: ${this.#writer.error.message}` }),
    };
    return summary;
  }
}

function loadStateOrUndefined(dir: string, target: string): SyncState | undefined {
  const s = loadState(dir, target);
  return s.ok ? s.value : undefined;
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}
