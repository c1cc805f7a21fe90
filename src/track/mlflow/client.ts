// A thin typed client for the MLflow tracking REST API (/api/2.0/mlflow) and the server's artifact
// proxy (/api/2.0/mlflow-artifacts). Each method is one RPC; policy (what to retry, how to batch)
// lives in the transport and in the callers. Methods throw MlflowError.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { MlflowError } from './errors.js';
import { LIMITS } from './limits.js';
import { Transport, type RetryMode, type TransportOptions } from './transport.js';
import {
  decodeDouble, decodeInt,
  type Experiment, type FileInfo, type KeyValue, type Metric, type Run, type RunInfo, type RunStatus, type ViewType, type WireDatasetInput, type WireMetric,
} from './types.js';

const API = '/api/2.0/mlflow';
const ARTIFACTS_API = '/api/2.0/mlflow-artifacts/artifacts';

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface LogBatchOptions extends CallOptions {
  /** Override the retry mode; metric writes default to `unapplied` (see RetryMode). */
  readonly retry?: RetryMode;
}

export interface CreateRunRequest {
  readonly experimentId: string;
  readonly runName?: string;
  readonly startTime?: number;
  readonly tags?: readonly KeyValue[];
}

export interface SearchRunsRequest {
  readonly experimentIds: readonly string[];
  readonly filter?: string;
  readonly maxResults?: number;
  readonly orderBy?: readonly string[];
  readonly pageToken?: string;
  readonly viewType?: ViewType;
}

export class MlflowClient {
  readonly #http: Transport;

  constructor(options: TransportOptions) {
    this.#http = new Transport(options);
  }

  get baseUrl(): URL {
    return this.#http.baseUrl;
  }

  async close(): Promise<void> {
    await this.#http.close();
  }

  // ---- server ----------------------------------------------------------------------------------

  /** GET /health: true when the server answers 200. Never retried: it is a probe. */
  async health(opts: CallOptions = {}): Promise<boolean> {
    try {
      await this.#http.send({ method: 'GET', path: '/health', retry: 'unapplied', ...opts });
      return true;
    } catch {
      return false;
    }
  }

  async version(opts: CallOptions = {}): Promise<string> {
    const res = await this.#http.send({ method: 'GET', path: '/version', retry: 'all', ...opts });
    return res.body.toString('utf8').trim();
  }

  // ---- experiments -----------------------------------------------------------------------------

  /** The experiment with this name (live or deleted), or undefined when none exists. */
  async getExperimentByName(name: string, opts: CallOptions = {}): Promise<Experiment | undefined> {
    try {
      const res = await this.#get<{ experiment?: Experiment }>('/experiments/get-by-name', { experiment_name: name }, opts);
      return res.experiment;
    } catch (e) {
      if (e instanceof MlflowError && e.code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw e;
    }
  }

  async createExperiment(name: string, tags: readonly KeyValue[] = [], opts: CallOptions = {}): Promise<string> {
    const res = await this.#post<{ experiment_id: string }>('/experiments/create', { name, tags }, 'all', opts);
    return String(res.experiment_id);
  }

  /**
   * Get-or-create by name. Safe to repeat and to race with another client: a concurrent create
   * surfaces as RESOURCE_ALREADY_EXISTS and the name is looked up again.
   */
  async getOrCreateExperiment(name: string, opts: CallOptions = {}, tags: readonly KeyValue[] = []): Promise<Experiment> {
    if (name.length === 0 || name.length > LIMITS.experimentNameLength) {
      throw invalid('POST /experiments/create', `experiment name must have 1..${LIMITS.experimentNameLength} characters`);
    }
    const found = await this.getExperimentByName(name, opts);
    if (found) return found;
    try {
      await this.createExperiment(name, tags, opts);
    } catch (e) {
      if (!(e instanceof MlflowError && e.code === 'RESOURCE_ALREADY_EXISTS')) throw e;
    }
    const created = await this.getExperimentByName(name, opts);
    if (!created) throw invalid('GET /experiments/get-by-name', `experiment ${JSON.stringify(name)} was created but cannot be read back`);
    return created;
  }

  async setExperimentTag(experimentId: string, key: string, value: string, opts: CallOptions = {}): Promise<void> {
    await this.#post('/experiments/set-experiment-tag', { experiment_id: experimentId, key, value }, 'all', opts);
  }

  /** Soft delete; restorable in the UI. */
  async deleteExperiment(experimentId: string, opts: CallOptions = {}): Promise<void> {
    await this.#post('/experiments/delete', { experiment_id: experimentId }, 'all', opts);
  }

  // ---- runs ------------------------------------------------------------------------------------

  /**
   * Not idempotent: every call creates a run. Retries only what cannot have reached the server;
   * callers that need exactly-once tag the run and search for it after an ambiguous failure.
   */
  async createRun(req: CreateRunRequest, opts: CallOptions = {}): Promise<Run> {
    const body: Record<string, unknown> = { experiment_id: req.experimentId, tags: req.tags ?? [] };
    if (req.runName !== undefined) body.run_name = req.runName;
    if (req.startTime !== undefined) body.start_time = req.startTime;
    const res = await this.#post<{ run: unknown }>('/runs/create', body, 'unapplied', opts);
    return normalizeRun(res.run);
  }

  async updateRun(runId: string, update: { status?: RunStatus; endTime?: number; runName?: string }, opts: CallOptions = {}): Promise<RunInfo> {
    const body: Record<string, unknown> = { run_id: runId };
    if (update.status !== undefined) body.status = update.status;
    if (update.endTime !== undefined) body.end_time = update.endTime;
    if (update.runName !== undefined) body.run_name = update.runName;
    const res = await this.#post<{ run_info: RunInfo }>('/runs/update', body, 'all', opts);
    return res.run_info;
  }

  async getRun(runId: string, opts: CallOptions = {}): Promise<Run> {
    const res = await this.#get<{ run: unknown }>('/runs/get', { run_id: runId }, opts);
    return normalizeRun(res.run);
  }

  /** One page of search results; an empty result (`{}` on the wire) is `runs: []`. */
  async searchRuns(req: SearchRunsRequest, opts: CallOptions = {}): Promise<{ runs: Run[]; nextPageToken?: string }> {
    const body: Record<string, unknown> = { experiment_ids: req.experimentIds };
    if (req.filter !== undefined) body.filter = req.filter;
    if (req.maxResults !== undefined) body.max_results = req.maxResults;
    if (req.orderBy !== undefined) body.order_by = req.orderBy;
    if (req.pageToken !== undefined) body.page_token = req.pageToken;
    if (req.viewType !== undefined) body.run_view_type = req.viewType;
    const res = await this.#post<{ runs?: unknown[]; next_page_token?: string }>('/runs/search', body, 'all', opts);
    const out: { runs: Run[]; nextPageToken?: string } = { runs: (res.runs ?? []).map(normalizeRun) };
    if (res.next_page_token) out.nextPageToken = res.next_page_token;
    return out;
  }

  /** Every run matching the search, walking the pages. */
  async searchAllRuns(req: Omit<SearchRunsRequest, 'pageToken'>, opts: CallOptions = {}): Promise<Run[]> {
    const all: Run[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.searchRuns({ ...req, ...(pageToken !== undefined && { pageToken }) }, opts);
      all.push(...page.runs);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return all;
  }

  /**
   * One log-batch request. The caller keeps it within LIMITS (see chunkBatch). Metric points
   * append, so a batch with metrics only retries failures that cannot have been applied.
   */
  async logBatch(runId: string, batch: { metrics?: readonly WireMetric[]; params?: readonly KeyValue[]; tags?: readonly KeyValue[] }, opts: LogBatchOptions = {}): Promise<void> {
    const metrics = batch.metrics ?? [];
    const params = batch.params ?? [];
    const tags = batch.tags ?? [];
    const endpoint = 'POST /runs/log-batch';
    if (metrics.length > LIMITS.metricsPerBatch || params.length > LIMITS.paramsPerBatch || tags.length > LIMITS.tagsPerBatch
      || metrics.length + params.length + tags.length > LIMITS.entitiesPerBatch) {
      throw invalid(endpoint, `batch of ${metrics.length} metrics, ${params.length} params, ${tags.length} tags exceeds the server's limits; split it with chunkBatch`);
    }
    const json = JSON.stringify({ run_id: runId, metrics, params, tags });
    if (Buffer.byteLength(json) > 1_000_000) throw invalid(endpoint, 'log-batch body exceeds the server limit of 1 MB; split it with chunkBatch');
    const retry = opts.retry ?? (metrics.length > 0 ? 'unapplied' : 'all');
    await this.#http.json({ method: 'POST', path: `${API}/runs/log-batch`, json, retry, ...(opts.signal && { signal: opts.signal }) });
  }

  /**
   * The datasets a run read. Idempotent: the server keeps one input per (run, dataset name, digest)
   * and one dataset per (experiment, name, digest), so a retry adds nothing.
   */
  async logInputs(runId: string, datasets: readonly WireDatasetInput[], opts: CallOptions = {}): Promise<void> {
    if (datasets.length > LIMITS.datasetsPerRequest) {
      throw invalid('POST /runs/log-inputs', `${datasets.length} datasets exceed the server's limit of ${LIMITS.datasetsPerRequest} per request`);
    }
    await this.#post('/runs/log-inputs', { run_id: runId, datasets }, 'all', opts);
  }

  async setTag(runId: string, key: string, value: string, opts: CallOptions = {}): Promise<void> {
    await this.#post('/runs/set-tag', { run_id: runId, key, value }, 'all', opts);
  }

  async logParam(runId: string, key: string, value: string, opts: CallOptions = {}): Promise<void> {
    await this.#post('/runs/log-parameter', { run_id: runId, key, value }, 'all', opts);
  }

  /** The whole history of one metric, every page. */
  async getMetricHistory(runId: string, metricKey: string, opts: CallOptions & { pageSize?: number } = {}): Promise<Metric[]> {
    const out: Metric[] = [];
    let pageToken: string | undefined;
    do {
      const res = await this.#get<{ metrics?: Array<Record<string, unknown>>; next_page_token?: string }>(
        '/metrics/get-history',
        { run_id: runId, metric_key: metricKey, max_results: opts.pageSize ?? 25_000, page_token: pageToken },
        opts,
      );
      for (const m of res.metrics ?? []) {
        out.push({ key: String(m.key), value: decodeDouble(m.value), timestamp: decodeInt(m.timestamp), step: decodeInt(m.step) });
      }
      pageToken = res.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  // ---- artifacts -------------------------------------------------------------------------------

  /** Streams a local file to `<run artifact root>/<artifactPath>` through the artifact proxy. PUT overwrites, so retrying is safe. */
  async uploadArtifact(artifactUri: string, artifactPath: string, localFile: string, opts: CallOptions = {}): Promise<void> {
    const target = this.#artifactTarget(artifactUri, artifactPath, 'PUT');
    const size = (await stat(localFile)).size;
    await this.#http.send({
      method: 'PUT',
      path: target.path,
      origin: target.origin,
      body: () => (size === 0 ? Buffer.alloc(0) : createReadStream(localFile)),
      contentType: 'application/octet-stream',
      retry: 'all',
      ...(opts.signal && { signal: opts.signal }),
    });
  }

  async downloadArtifact(artifactUri: string, artifactPath: string, opts: CallOptions = {}): Promise<Buffer> {
    const target = this.#artifactTarget(artifactUri, artifactPath, 'GET');
    const res = await this.#http.send({ method: 'GET', path: target.path, origin: target.origin, retry: 'all', ...(opts.signal && { signal: opts.signal }) });
    return res.body;
  }

  /** Lists one directory of a run's artifacts; paths come back relative to the artifact root. */
  async listArtifacts(runId: string, path?: string, opts: CallOptions = {}): Promise<FileInfo[]> {
    const out: FileInfo[] = [];
    let pageToken: string | undefined;
    do {
      const res = await this.#get<{ files?: FileInfo[]; next_page_token?: string }>(
        '/artifacts/list', { run_id: runId, path, page_token: pageToken }, opts,
      );
      out.push(...(res.files ?? []));
      pageToken = res.next_page_token || undefined;
    } while (pageToken);
    return out;
  }

  /**
   * The artifact proxy URL for a run's artifact: `mlflow-artifacts:/1/<run>/artifacts` + `a/b.png`
   * becomes `<base>/api/2.0/mlflow-artifacts/artifacts/1/<run>/artifacts/a/b.png`, each segment
   * percent-encoded. A URI naming its own host is sent there.
   */
  #artifactTarget(artifactUri: string, artifactPath: string, method: string): { origin: string; path: string } {
    const endpoint = `${method} ${ARTIFACTS_API}`;
    const m = /^mlflow-artifacts:(\/\/([^/]+))?(\/.*)?$/.exec(artifactUri);
    if (!m) {
      throw invalid(endpoint, `run artifact URI ${JSON.stringify(artifactUri)} is not served by the tracking server's artifact proxy ` +
        '(start the server with --serve-artifacts and without a local --default-artifact-root)');
    }
    const host = m[2];
    const root = (m[3] ?? '/').split('/').filter((s) => s !== '');
    const rel = artifactPath.split('/').filter((s) => s !== '');
    if (rel.some((s) => s === '..' || s === '.')) throw invalid(endpoint, `artifact path ${JSON.stringify(artifactPath)} is not normalized`);
    const encoded = [...root, ...rel].map(encodeURIComponent).join('/');
    // Known limit: a URI naming another host is reached with the tracking URI's path prefix too.
    const origin = host !== undefined ? `${this.#http.baseUrl.protocol}//${host}` : this.#http.baseUrl.origin;
    return { origin, path: `${ARTIFACTS_API}/${encoded}` };
  }

  // ---- plumbing --------------------------------------------------------------------------------

  #get<T>(rpc: string, query: Record<string, string | number | undefined>, opts: CallOptions): Promise<T> {
    return this.#http.json<T>({ method: 'GET', path: `${API}${rpc}`, query, retry: 'all', ...(opts.signal && { signal: opts.signal }) });
  }

  #post<T>(rpc: string, body: unknown, retry: RetryMode, opts: CallOptions): Promise<T> {
    return this.#http.json<T>({ method: 'POST', path: `${API}${rpc}`, json: JSON.stringify(body), retry, ...(opts.signal && { signal: opts.signal }) });
  }
}

function invalid(endpoint: string, message: string): MlflowError {
  return new MlflowError({ kind: 'invalid-request', code: 'INVALID_REQUEST', endpoint, applied: 'no', attempts: 0 }, `${endpoint}: ${message}`);
}

/** Fills the fields a sparse response leaves out and decodes metric values. */
function normalizeRun(raw: unknown): Run {
  const r = (raw ?? {}) as {
    info?: RunInfo;
    data?: { metrics?: Array<Record<string, unknown>>; params?: KeyValue[]; tags?: KeyValue[] };
    inputs?: { dataset_inputs?: WireDatasetInput[] };
  };
  const info = r.info ?? ({ run_id: '', experiment_id: '' } as RunInfo);
  return {
    info: { ...info, run_id: info.run_id ?? (info as { run_uuid?: string }).run_uuid ?? '' },
    data: {
      metrics: (r.data?.metrics ?? []).map((m) => ({ key: String(m.key), value: decodeDouble(m.value), timestamp: decodeInt(m.timestamp), step: decodeInt(m.step) })),
      params: r.data?.params ?? [],
      tags: r.data?.tags ?? [],
    },
    inputs: { dataset_inputs: r.inputs?.dataset_inputs ?? [] },
  };
}
