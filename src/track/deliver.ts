// Delivers a window of outbox ops to an MLflow server exactly once.
//
// Params, tags, run updates and artifact PUTs are idempotent: sending them twice is harmless.
// Two writes are not: creating a run, and logging metric points (MLflow appends every point).
// Before a window is sent, the run keys it creates and the metric names it logs are written to
// the sync state as "uncertain" (a write-ahead mark). If the window then fails, times out, or the
// process dies, the next attempt sees the mark and first reads the server: it looks runs up by
// their `massflow.key` tag instead of creating them again, and it reads each uncertain metric's
// history to drop the points that already landed. See docs/tracking.md.
import PQueue from 'p-queue';
import { MlflowError } from './mlflow/errors.js';
import { chunkBatch, LIMITS } from './mlflow/limits.js';
import type { MlflowClient } from './mlflow/client.js';
import type { KeyValue, WireDatasetInput, WireMetric } from './mlflow/types.js';
import { readOutbox, type OutboxEntry } from './outbox.js';
import { listArtifactFiles } from './paths.js';
import { alreadyOnServer, type MetricOp, type ServerPoint } from './reconcile.js';
import type { DatasetInput, RunKey, TrackingOp } from './ops.js';
import { sleep } from './mlflow/retry.js';
import { saveState, type Rejection, type SyncState, type Uncertain } from './state.js';

export interface DeliveryContext {
  readonly client: MlflowClient;
  readonly trackingDir: string;
  readonly state: SyncState;
  /** The massflow run id, tagged on every MLflow run so an uncertain create can be found again. */
  readonly massflowRunId: string;
  /** Ops already acknowledged (seq <= state.acked), read only when a metric needs reconciling; by default from the outbox in trackingDir. */
  readonly readAcked?: () => readonly OutboxEntry[];
  /** Parallel requests within a window. */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  /** How long the uncertain metrics' histories must stay unchanged before reconciling (see #settle). */
  readonly settle?: SettleTiming;
}

export interface SettleTiming {
  /** Two reads this far apart that agree mean nothing more is landing. */
  readonly quietMs: number;
  /** Reconcile anyway after this long (a server that keeps writing is not waiting on us). */
  readonly maxMs: number;
}

/**
 * A write is taken as settled once its histories have not moved for two seconds. Marks older than the
 * default request timeout (120 s) are past any request the client could still have been waiting on.
 */
const DEFAULT_SETTLE: SettleTiming = { quietMs: 2000, maxMs: 60_000 };
const SETTLE_HORIZON_MS = 120_000;

export interface WindowStats {
  readonly ops: number;
  readonly points: number;
  readonly requests: number;
  /** Points not sent because reconciliation found them already on the server. */
  readonly skippedPoints: number;
  /**
   * Whether new data landed (metric points written, runs created). A failed window that made
   * progress is worth retrying at once; idempotent re-sends (params, tags) do not count, so a
   * window that keeps failing cannot look busy forever.
   */
  readonly progress: boolean;
  readonly rejected: readonly Rejection[];
}

export type WindowOutcome =
  | { readonly ok: true; readonly stats: WindowStats }
  | { readonly ok: false; readonly error: MlflowError; readonly stats: WindowStats };

type StartOp = Extract<TrackingOp, { op: 'start' }>;

interface RunWork {
  params: Map<string, { value: string; seq: number }>;
  tags: Map<string, { value: string; seq: number }>;
  metrics: MetricOp[];
  artifacts: Extract<TrackingOp, { op: 'artifact' }>[];
  inputs: Extract<TrackingOp, { op: 'inputs' }>[];
  end?: Extract<TrackingOp, { op: 'end' }>;
}

/** The experiment tag that makes the MLflow 3 UI open on the runs table. */
export const EXPERIMENT_KIND = { key: 'mlflow.experimentKind', value: 'custom_model_development' } as const;

export class Deliverer {
  readonly #ctx: DeliveryContext;
  /**
   * Whether writes of the uncertain mark may still be in flight at the server. True at first: the
   * mark on disk may come from a process that died mid-request. After a failed window of our own it
   * is true only if a metric write timed out or was aborted; one that got an answer, even a reset,
   * is over as far as the server is concerned.
   */
  #unsettled = true;
  /** Set when a metric write of the current window ended without an answer (timeout, abort). */
  #inFlight = false;

  constructor(ctx: DeliveryContext) {
    this.#ctx = ctx;
  }

  /**
   * Sends `entries` (the ops right after state.acked, in order). On success the state is advanced
   * past them; on failure nothing is acknowledged and the uncertainty marks stay for the next try.
   */
  async deliverWindow(entries: readonly OutboxEntry[]): Promise<WindowOutcome> {
    const { state } = this.#ctx;
    const stats = { ops: 0, points: 0, requests: 0, skippedPoints: 0, progress: false, rejected: [] as Rejection[] };
    if (entries.length === 0) return { ok: true, stats };
    const last = entries[entries.length - 1]!;
    const prior = state.uncertain;
    if (prior && this.#unsettled && prior.since !== undefined && Date.now() - prior.since < SETTLE_HORIZON_MS) {
      try {
        await this.#settle(prior, stats);
      } catch (e) {
        if (e instanceof MlflowError) return { ok: false, error: e, stats };
        throw e;
      }
    }
    this.#unsettled = false;
    this.#inFlight = false;

    // Group the window by run key.
    const starts: StartOp[] = [];
    const work = new Map<RunKey, RunWork>();
    const runWork = (key: RunKey): RunWork => {
      let w = work.get(key);
      if (!w) work.set(key, (w = { params: new Map(), tags: new Map(), metrics: [], artifacts: [], inputs: [] }));
      return w;
    };
    for (const { op } of entries) {
      switch (op.op) {
        case 'start': starts.push(op); break;
        case 'params': for (const [k, v] of Object.entries(op.params)) runWork(op.key).params.set(k, { value: v, seq: op.seq }); break;
        case 'tags': for (const [k, v] of Object.entries(op.tags)) runWork(op.key).tags.set(k, { value: v, seq: op.seq }); break;
        case 'metric': runWork(op.key).metrics.push(op); break;
        case 'artifact': runWork(op.key).artifacts.push(op); break;
        case 'inputs': runWork(op.key).inputs.push(op); break;
        case 'end': runWork(op.key).end = op; break;
        default: assertNever(op);
      }
    }

    // Write-ahead: mark what this window may create or append before sending any of it.
    state.uncertain = mergeUncertain(prior, {
      upTo: last.op.seq,
      runs: starts.filter((s) => state.runs[s.key] === undefined).map((s) => s.key),
      metrics: Object.fromEntries([...work].filter(([, w]) => w.metrics.length > 0).map(([k, w]) => [k, [...new Set(w.metrics.map((m) => m.name))]])),
      since: Date.now(),
    });
    saveState(this.#ctx.trackingDir, state);

    try {
      for (const start of starts) await this.#ensureRun(start, prior, stats);
      await this.#sendRunData(work, prior, stats);
      for (const [key, w] of work) {
        if (!w.end) continue;
        const mapping = state.runs[key];
        if (!mapping) continue; // Rejected with its run.
        await this.#call(stats, async () => {
          await this.#ctx.client.updateRun(mapping.runId, { status: w.end!.status, endTime: w.end!.t }, this.#opts());
        }, (e) => this.#reject(stats, w.end!.seq, `end of ${key}`, e.message));
      }
    } catch (e) {
      if (e instanceof MlflowError) {
        this.#unsettled = this.#inFlight;
        return { ok: false, error: e, stats };
      }
      throw e;
    }

    state.acked = last.op.seq;
    state.offset = last.end;
    state.sent.ops += entries.length;
    state.sent.points += stats.points;
    state.sent.requests += stats.requests;
    if (state.uncertain && state.acked >= state.uncertain.upTo) delete state.uncertain;
    saveState(this.#ctx.trackingDir, state);
    stats.ops = entries.length;
    return { ok: true, stats };
  }

  /**
   * Waits until the histories of the uncertain metrics stop changing. Reconciling reads what the
   * server holds; a write still being applied (the client timed out or died, the server has not
   * finished) would land after that read and be sent twice.
   */
  async #settle(prior: Uncertain, stats: { requests: number }): Promise<void> {
    const timing = this.#ctx.settle ?? DEFAULT_SETTLE;
    const targets = Object.entries(prior.metrics).flatMap(([key, names]) => {
      const mapping = this.#ctx.state.runs[key];
      return mapping ? names.map((name) => ({ runId: mapping.runId, name })) : [];
    });
    if (targets.length === 0) return;
    const lengths = async (): Promise<string> => {
      const out: number[] = [];
      for (const t of targets) out.push((await this.#counted(stats, () => this.#ctx.client.getMetricHistory(t.runId, t.name, this.#opts()))).length);
      return out.join(',');
    };
    const deadline = Date.now() + timing.maxMs;
    let before = await lengths();
    while (Date.now() < deadline) {
      await sleep(timing.quietMs, this.#ctx.signal);
      const now = await lengths();
      if (now === before) return;
      before = now;
    }
  }

  #opts(): { signal?: AbortSignal } {
    return this.#ctx.signal ? { signal: this.#ctx.signal } : {};
  }

  /** Creates the MLflow run for a start op, or finds the one an earlier, unanswered attempt made. */
  async #ensureRun(op: StartOp, prior: Uncertain | undefined, stats: { requests: number; progress: boolean; rejected: Rejection[] }): Promise<void> {
    const { state, client } = this.#ctx;
    if (state.runs[op.key] !== undefined || state.failedRuns[op.key] !== undefined) return;
    const fail = (reason: string): void => {
      state.failedRuns[op.key] = reason;
      this.#reject(stats, op.seq, `run ${op.key}`, reason);
      saveState(this.#ctx.trackingDir, state);
    };

    let experimentId: string;
    let parentRunId: string | undefined;
    if (op.parent !== undefined) {
      const parent = state.runs[op.parent];
      if (!parent) return fail(state.failedRuns[op.parent] !== undefined
        ? `its parent run ${op.parent} could not be created` : `its parent run ${op.parent} was never started`);
      experimentId = parent.experimentId;
      parentRunId = parent.runId;
    } else {
      const name = op.experiment ?? 'Default';
      let id = state.experiments[name];
      if (id === undefined) {
        const exp = await this.#counted(stats, () => client.getOrCreateExperiment(name, this.#opts(), [EXPERIMENT_KIND]));
        if (exp.lifecycle_stage === 'deleted') {
          throw new MlflowError(
            { kind: 'http', code: 'EXPERIMENT_DELETED', endpoint: 'GET /api/2.0/mlflow/experiments/get-by-name', applied: 'no', attempts: 1 },
            `experiment ${JSON.stringify(name)} is deleted on the server: restore it in the MLflow UI or choose another experiment name`,
          );
        }
        // MLflow 3 opens an experiment without a kind in its GenAI view; massflow's are model training.
        // A kind the user set is never overwritten.
        if (!exp.tags?.some((t) => t.key === EXPERIMENT_KIND.key)) {
          await this.#counted(stats, () => client.setExperimentTag(exp.experiment_id, EXPERIMENT_KIND.key, EXPERIMENT_KIND.value, this.#opts()));
        }
        id = exp.experiment_id;
        state.experiments[name] = id;
      }
      experimentId = id;
    }

    const massflowRunId = op.tags['massflow.run_id'] ?? this.#ctx.massflowRunId;
    if (prior?.runs.includes(op.key)) {
      // An earlier create may have succeeded without us hearing back: look before creating again.
      const found = await this.#counted(stats, () => client.searchAllRuns({
        experimentIds: [experimentId],
        filter: `tags.\`massflow.run_id\` = '${massflowRunId.replace(/'/g, '')}'`,
        viewType: 'ALL',
      }, this.#opts()));
      const run = found.find((r) => r.data.tags.some((t) => t.key === 'massflow.key' && t.value === op.key));
      if (run) {
        state.runs[op.key] = { runId: run.info.run_id, experimentId, artifactUri: run.info.artifact_uri ?? '' };
        saveState(this.#ctx.trackingDir, state);
        return;
      }
    }

    const tags: KeyValue[] = Object.entries({
      ...op.tags,
      'mlflow.runName': op.name,
      'massflow.key': op.key,
      'massflow.run_id': massflowRunId,
      ...(parentRunId !== undefined && { 'mlflow.parentRunId': parentRunId }),
    }).map(([key, value]) => ({ key, value }));
    try {
      const run = await this.#counted(stats, () => client.createRun({ experimentId, runName: op.name, startTime: op.t, tags }, this.#opts()));
      stats.progress = true;
      state.runs[op.key] = { runId: run.info.run_id, experimentId, artifactUri: run.info.artifact_uri ?? '' };
      saveState(this.#ctx.trackingDir, state);
    } catch (e) {
      if (isPermanent(e)) return fail((e as MlflowError).message);
      throw e;
    }
  }

  /** Params, tags, metric points and artifacts of every run in the window, in parallel. */
  async #sendRunData(work: Map<RunKey, RunWork>, prior: Uncertain | undefined, stats: { points: number; requests: number; skippedPoints: number; progress: boolean; rejected: Rejection[] }): Promise<void> {
    const { state, client } = this.#ctx;
    const queue = new PQueue({ concurrency: this.#ctx.concurrency ?? 4 });
    let failure: unknown;
    // After an ambiguous failure (reset, 5xx, timeout) the other requests of the window still go:
    // on a flaky path each attempt then makes progress, and the next attempt reconciles. When the
    // server is plainly unreachable, the configuration is wrong, or the caller aborts, the rest of
    // the window is skipped instead of waiting through every request's retries.
    let stop = false;
    const add = (task: () => Promise<void>): void => {
      void queue.add(async () => {
        if (stop) return;
        try {
          await task();
        } catch (e) {
          failure ??= e;
          if (!(e instanceof MlflowError) || e.applied === 'no' || e.configuration || e.kind === 'aborted') stop = true;
        }
      });
    };

    for (const [key, w] of work) {
      const mapping = state.runs[key];
      if (!mapping) {
        // The run could not be created: everything logged to it is rejected with it.
        const reason = state.failedRuns[key] ?? `run ${key} was never started`;
        const seqs = [...[...w.params.values()].map((p) => p.seq), ...[...w.tags.values()].map((t) => t.seq), ...w.metrics.map((m) => m.seq), ...w.artifacts.map((a) => a.seq), ...w.inputs.map((i) => i.seq), ...(w.end ? [w.end.seq] : [])];
        if (seqs.length > 0) this.#reject(stats, Math.min(...seqs), `${seqs.length} ops of ${key}`, reason);
        addPoints(state, w.metrics.map((m) => m.seq));
        continue;
      }
      const runId = mapping.runId;

      // Params and tags: idempotent, so any failure can simply be retried.
      const params = [...w.params].map(([k, v]) => ({ key: k, value: v.value }));
      const tags = [...w.tags].map(([k, v]) => ({ key: k, value: v.value }));
      for (const batch of chunkBatch({ params, tags, metrics: [] })) {
        add(() => this.#call(stats, () => client.logBatch(runId, batch, { ...this.#opts(), retry: 'all' }), async () => {
          // A 400 rejects the whole batch: send the entries one by one to keep the good ones.
          for (const p of batch.params) {
            await this.#call(stats, () => client.logBatch(runId, { params: [p] }, { ...this.#opts(), retry: 'all' }),
              (e) => this.#reject(stats, w.params.get(p.key)!.seq, `param ${p.key} of ${key}`, e.message));
          }
          for (const t of batch.tags) {
            await this.#call(stats, () => client.logBatch(runId, { tags: [t] }, { ...this.#opts(), retry: 'all' }),
              (e) => this.#reject(stats, w.tags.get(t.key)!.seq, `tag ${t.key} of ${key}`, e.message));
          }
        }));
      }

      // Metric points: reconcile what an earlier attempt may have left on the server, then send the rest.
      if (w.metrics.length > 0) {
        add(async () => {
          const uncertainNames = new Set(prior?.metrics[key] ?? []);
          const toSend = uncertainNames.size > 0 ? await this.#reconcile(key, runId, w.metrics, uncertainNames, stats) : w.metrics;
          const wire: (WireMetric & { seq: number })[] = toSend.map((m) => ({ key: m.name, value: m.value, timestamp: m.t, step: m.step, seq: m.seq }));
          for (const batch of chunkBatch({ metrics: wire, params: [], tags: [] })) {
            const metrics = (batch.metrics as (WireMetric & { seq: number })[]).map(({ key: k, value, timestamp, step }) => ({ key: k, value, timestamp, step }));
            const seqs = (batch.metrics as (WireMetric & { seq: number })[]).map((m) => m.seq);
            add(() => this.#call(stats, async () => {
              try {
                await client.logBatch(runId, { metrics }, this.#opts());
              } catch (e) {
                if (e instanceof MlflowError && (e.code === 'TIMEOUT' || e.kind === 'aborted')) this.#inFlight = true;
                throw e;
              }
              stats.points += metrics.length;
              stats.progress = true;
            }, async () => {
              // Rejected (400, nothing written): retry per metric name so one bad key does not take the others down.
              const byName = new Map<string, { m: WireMetric[]; s: number[] }>();
              metrics.forEach((m, i) => {
                const g = byName.get(m.key) ?? { m: [], s: [] };
                g.m.push(m);
                g.s.push(seqs[i]!);
                byName.set(m.key, g);
              });
              for (const [name, g] of byName) {
                await this.#call(stats, async () => {
                  await client.logBatch(runId, { metrics: g.m }, this.#opts());
                  stats.points += g.m.length;
                }, (e) => {
                  this.#reject(stats, g.s[0]!, `${g.m.length} points of metric ${name} of ${key}`, e.message);
                  addPoints(state, g.s);
                });
              }
            }));
          }
        });
      }

      for (const a of w.artifacts) {
        add(() => this.#uploadArtifact(key, mapping.artifactUri, a, stats));
      }
    }
    await queue.onIdle();
    if (failure !== undefined) throw failure;
    await this.#sendInputs(work, stats);
  }

  /**
   * Dataset inputs, one request at a time: the server keeps one input per (run, name, digest), so a
   * re-send adds nothing and needs no reconciling, but two requests naming a dataset new to the
   * experiment race on its insert and one gets a 400 (a unique-constraint error). That one, or one
   * lost to another client doing the same, is sent again: the dataset exists by then.
   */
  async #sendInputs(work: Map<RunKey, RunWork>, stats: { requests: number; rejected: Rejection[] }): Promise<void> {
    for (const [key, w] of work) {
      const runId = this.#ctx.state.runs[key]?.runId;
      if (runId === undefined) continue; // Rejected with its run.
      for (const op of w.inputs) {
        for (let i = 0; i < op.datasets.length; i += LIMITS.datasetsPerRequest) {
          const datasets = op.datasets.slice(i, i + LIMITS.datasetsPerRequest).map(wireDataset);
          const send = () => this.#ctx.client.logInputs(runId, datasets, this.#opts());
          await this.#call(stats, async () => {
            try {
              await send();
            } catch (e) {
              if (!(e instanceof MlflowError && /UNIQUE constraint|IntegrityError|Duplicate entry|duplicate key/i.test(e.message))) throw e;
              stats.requests += 1;
              await send();
            }
          }, (e) => this.#reject(stats, op.seq, `${datasets.length} dataset inputs of ${key}`, e.message));
        }
      }
    }
  }

  /** The points of `metrics` not yet on the server (see alreadyOnServer); reads the uncertain metrics' histories. */
  async #reconcile(key: RunKey, runId: string, metrics: readonly MetricOp[], names: ReadonlySet<string>, stats: { requests: number; skippedPoints: number }): Promise<MetricOp[]> {
    if (!metrics.some((m) => names.has(m.name))) return [...metrics];
    const history = new Map<string, readonly ServerPoint[]>();
    for (const name of new Set(metrics.filter((m) => names.has(m.name)).map((m) => m.name))) {
      history.set(name, await this.#counted(stats, () => this.#ctx.client.getMetricHistory(runId, name, this.#opts())));
    }
    const { toSend, skipped } = alreadyOnServer({
      key, metrics, names, history, rejectedPoints: this.#ctx.state.rejectedPoints,
      acked: () => this.#ctx.readAcked?.() ?? readOutbox(this.#ctx.trackingDir).entries.filter((e) => e.op.seq <= this.#ctx.state.acked),
    });
    stats.skippedPoints += skipped;
    return toSend;
  }

  async #uploadArtifact(key: RunKey, artifactUri: string, op: Extract<TrackingOp, { op: 'artifact' }>, stats: { requests: number; progress: boolean; rejected: Rejection[] }): Promise<void> {
    let files: { local: string; path: string }[];
    try {
      files = await listArtifactFiles(op.local, op.path);
    } catch (e) {
      this.#reject(stats, op.seq, `artifact ${op.path} of ${key}`, `local file ${op.local} is unreadable: ${(e as Error).message}`);
      return;
    }
    for (const f of files) {
      await this.#call(stats, () => this.#ctx.client.uploadArtifact(artifactUri, f.path, f.local, this.#opts()),
        (e) => this.#reject(stats, op.seq, `artifact ${f.path} of ${key}`, e.message));
    }
  }

  /** Runs one request: counts it, hands a permanent rejection to `onRejected`, rethrows the rest. */
  async #call(stats: { requests: number }, fn: () => Promise<void>, onRejected: (e: MlflowError) => void | Promise<void>): Promise<void> {
    try {
      await this.#counted(stats, fn);
    } catch (e) {
      if (isPermanent(e)) await onRejected(e as MlflowError);
      else throw e;
    }
  }

  async #counted<T>(stats: { requests: number }, fn: () => Promise<T>): Promise<T> {
    stats.requests += 1;
    return fn();
  }

  #reject(stats: { rejected: Rejection[] }, seq: number, what: string, reason = 'rejected'): void {
    const r: Rejection = { seq, what, reason };
    stats.rejected.push(r);
    // A window retried after another failure meets the same refusal again: record it once.
    if (!this.#ctx.state.rejected.some((x) => x.seq === seq && x.what === what)) this.#ctx.state.rejected.push(r);
  }
}

/** A failure that retrying cannot fix and that concerns this op only (not the server or the config). */
function isPermanent(e: unknown): boolean {
  return e instanceof MlflowError && !e.transient && !e.configuration && e.kind !== 'aborted';
}

function wireDataset(d: DatasetInput): WireDatasetInput {
  return {
    tags: [{ key: 'mlflow.data.context', value: d.context }],
    dataset: { name: d.name, digest: d.digest, source_type: d.sourceType, source: d.source, ...(d.profile !== undefined && { profile: d.profile }) },
  };
}

function addPoints(state: SyncState, seqs: readonly number[]): void {
  const have = new Set(state.rejectedPoints);
  for (const s of seqs) if (!have.has(s)) state.rejectedPoints.push(s);
}

function mergeUncertain(a: Uncertain | undefined, b: Uncertain): Uncertain {
  if (!a) return b;
  const metrics: Record<RunKey, string[]> = {};
  for (const src of [a.metrics, b.metrics]) {
    for (const [k, names] of Object.entries(src)) metrics[k] = [...new Set([...(metrics[k] ?? []), ...names])];
  }
  return { upTo: Math.max(a.upTo, b.upTo), runs: [...new Set([...a.runs, ...b.runs])], metrics, ...(b.since !== undefined && { since: b.since }) };
}

function assertNever(x: never): never {
  throw new Error(`unhandled tracking op ${JSON.stringify(x)}`);
}
