// The Tracker the runner calls while a run executes: a Recorder (validate, append to the run's
// outbox; nothing waits on the network) and, when a server is configured, live delivery of what is
// on disk through the same driver `massflow sync` uses. A dead, slow or failing server only leaves
// ops queued for the next run or `massflow sync`. Methods return results: tracking never fails a run.
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { TrackingConfig } from './config.js';
import { redactorFor } from './redactors.js';
import type { LiveDelivery } from './live-delivery.js';
import type { DatasetInput, EndStatus, RunKey } from './ops.js';
import { OutboxWriter } from './outbox.js';
import { Recorder, type TrackError, type TrackResult } from './recorder.js';
import { err, ok, type Result } from '../core/result.js';
import { loadState, type Rejection } from './state.js';

export type { TrackError, TrackErrorKind, TrackResult } from './recorder.js';
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
  /** Experiment name -> id on the server, for the experiments this run's ops reached. */
  readonly experiments: Readonly<Record<string, string>>;
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
  /** Datasets the run read (MLflow dataset inputs: the runs table's Dataset column). */
  logInputs(key: RunKey, datasets: readonly DatasetInput[]): TrackResult;
  endRun(key: RunKey, status: EndStatus): TrackResult;
  /** Flushes the outbox, gives delivery up to `flushTimeoutMs` to finish, and stops. */
  close(opts?: { flushTimeoutMs?: number }): Promise<TrackerSummary>;
}

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
  const { writer, existing } = opened;
  const warn = (m: string): void => opts.onWarning?.(redactor.redact(m));
  const recorder = new Recorder({
    writer, redactor, warn, existing,
    projectDir: opts.projectDir,
    experiment: opts.config.experiment ?? opts.experimentName,
    systemTags: {
      'mlflow.user': opts.user ?? osUser(),
      'mlflow.source.name': opts.sourceName ?? 'massflow',
      'mlflow.source.type': 'LOCAL',
      ...(opts.gitCommit && { 'mlflow.source.git.commit': opts.gitCommit }),
      'massflow.run_id': opts.runId,
    },
  });
  let delivery: LiveDelivery | undefined;
  let lastError: string | undefined;
  if (server) {
    const tuning = opts.tuning ?? {};
    // The HTTP stack loads only for a run that has a server to deliver to.
    const { startLiveDelivery } = await import('./live-delivery.js');
    const started = startLiveDelivery({
      outboxDir, server, redactor, writer, existing, warn,
      runId: opts.runId,
      windowOps: tuning.windowOps ?? 10_000,
      concurrency: tuning.concurrency ?? 4,
      connections: tuning.concurrency !== undefined ? tuning.concurrency * 2 : undefined,
      maxQueued: tuning.maxQueued ?? MAX_QUEUED,
    });
    if (started.kind === 'started') delivery = started.delivery;
    if (started.kind === 'off') lastError = started.error;
  }

  let closing: Promise<TrackerSummary> | undefined;
  const close = async (flushTimeoutMs: number): Promise<TrackerSummary> => {
    recorder.stopRecording();
    let cutShort = false;
    const deadline = setTimeout(() => {
      cutShort = true;
      delivery?.abort(new Error('tracker close: flush timeout'));
    }, Math.max(0, flushTimeoutMs));
    try {
      await writer.close();
      await delivery?.drain();
    } finally {
      clearTimeout(deadline);
      await delivery?.dispose();
    }
    lastError ??= delivery?.lastError;
    const recorded = writer.lastSeq;
    // Without a live delivery (lock held elsewhere), the state on disk still says what was sent.
    const state = delivery?.state ?? (server ? loadStateOrUndefined(outboxDir, server.uri) : undefined);
    const acked = state?.acked ?? 0;
    // A window still inside the client's own retries when the deadline hit has not reported its
    // error yet; the summary must still say why points are left.
    if (cutShort && recorded > acked && lastError === undefined) {
      lastError = `delivery did not finish within the ${flushTimeoutMs} ms close deadline (the server was slow or unreachable)`;
    }
    return {
      mode: opts.config.mode,
      recorded,
      delivered: acked,
      pending: recorded - acked,
      rejected: state?.rejected ?? [],
      outboxDir,
      experiments: { ...state?.experiments },
      ...(lastError !== undefined && { lastError }),
      ...(writer.error && { lastError: `the tracking outbox cannot be written: ${writer.error.message}` }),
    };
  };

  const tracker: Tracker = {
    outboxDir,
    startRun: (key, o) => recorder.startRun(key, o),
    logParams: (key, params) => recorder.logParams(key, params),
    logMetric: (key, name, value, step, timestamp) => recorder.logMetric(key, name, value, step, timestamp),
    setTags: (key, tags) => recorder.setTags(key, tags),
    logArtifact: (key, local, path) => recorder.logArtifact(key, local, path),
    logInputs: (key, datasets) => recorder.logInputs(key, datasets),
    endRun: (key, status) => recorder.endRun(key, status),
    close: (o = {}) => (closing ??= close(o.flushTimeoutMs ?? 10_000)),
  };
  return ok(tracker);
}

function loadStateOrUndefined(dir: string, target: string) {
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

/**
 * The experiment's page on the runs table. MLflow 3's UI opens an experiment in the view its
 * global GenAI / Model training switch was last left in (GenAI by default), so the link says which.
 */
export function experimentUrl(serverUri: string, experimentId: string): string {
  return `${serverUri.replace(/\/+$/, '')}/#/experiments/${encodeURIComponent(experimentId)}?workflowType=machine_learning`;
}
