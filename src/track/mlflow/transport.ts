// HTTP for the MLflow client: undici connection pool, authentication headers, TLS settings,
// timeouts, error mapping and the official client's retry policy. Knows nothing of MLflow RPCs.
import { readFileSync } from 'node:fs';
import { Agent, type Dispatcher } from 'undici';
import type { Readable } from 'node:stream';
import { MlflowError, appliedForStatus, codeForStatus, type Applied } from './errors.js';
import { parseRetryAfterMs, retryDelayMs, sleep, type RetryPolicy } from './retry.js';
import type { Secret, Redactor } from '../secret.js';

export type Auth =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly username: string; readonly password: Secret }
  | { readonly kind: 'bearer'; readonly token: Secret };

export interface TlsSettings {
  /** MLFLOW_TRACKING_INSECURE_TLS: skip certificate and hostname checks. */
  readonly insecure: boolean;
  /** MLFLOW_TRACKING_SERVER_CERT_PATH: a CA bundle (PEM) trusted for the server. */
  readonly caFile?: string;
  /** MLFLOW_TRACKING_CLIENT_CERT_PATH: a PEM holding the client certificate and its key (mTLS). */
  readonly clientCertFile?: string;
}

export interface TransportOptions {
  /** Base URL of the server, possibly with a path prefix; never with credentials in it. */
  readonly baseUrl: URL;
  readonly auth: Auth;
  readonly tls: TlsSettings;
  readonly retry: RetryPolicy;
  /** Parallel connections per origin (MLFLOW_HTTP_POOL_MAXSIZE in the Python client; 10). */
  readonly connections?: number;
  /** Masks secrets in error messages built from server answers. */
  readonly redactor?: Redactor;
  /** Called once per HTTP attempt; tests and benchmarks count requests with it. */
  readonly onAttempt?: (info: { method: string; path: string }) => void;
}

/**
 * - `all`: retry every transient failure, as the official client does; for requests whose
 *   repetition is harmless (reads, tags, params, run updates, artifact PUT).
 * - `unapplied`: retry only failures where the server certainly did not apply the request
 *   (connection refused, 429). Used for metric writes, whose ambiguous failures go back to the
 *   delivery layer so it can check what landed before sending again.
 */
export type RetryMode = 'all' | 'unapplied';

export interface RequestSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path below the base URL, starting with `/` (e.g. `/api/2.0/mlflow/runs/get`). */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | readonly string[] | undefined>>;
  /** A JSON body (already encoded by the caller, so it controls NaN and number formatting). */
  readonly json?: string;
  /** A raw body, created afresh for every attempt (a file stream cannot be replayed). */
  readonly body?: () => Readable | Buffer;
  readonly contentType?: string;
  readonly retry: RetryMode;
  readonly signal?: AbortSignal;
  /** An absolute origin to send to instead of the base URL's (artifact URIs may name a host). */
  readonly origin?: string;
}

export interface RawResponse {
  readonly status: number;
  readonly body: Buffer;
  readonly contentType: string;
}

const USER_AGENT = 'massflow-mlflow-client/1';

export class Transport {
  readonly baseUrl: URL;
  readonly #agent: Agent;
  readonly #auth: string | undefined;
  readonly #retry: RetryPolicy;
  readonly #redactor: Redactor | undefined;
  readonly #onAttempt: TransportOptions['onAttempt'];
  readonly #prefix: string;

  constructor(opts: TransportOptions) {
    this.baseUrl = opts.baseUrl;
    this.#retry = opts.retry;
    this.#redactor = opts.redactor;
    this.#onAttempt = opts.onAttempt;
    this.#prefix = opts.baseUrl.pathname.replace(/\/+$/, '');
    this.#auth = authorizationHeader(opts.auth);
    const connect: Record<string, unknown> = { timeout: opts.retry.timeoutMs };
    if (opts.tls.insecure) connect.rejectUnauthorized = false;
    if (opts.tls.caFile !== undefined) connect.ca = readFileSync(opts.tls.caFile);
    if (opts.tls.clientCertFile !== undefined) {
      // requests accepts one PEM with both blocks; Node's TLS picks the certificate and the key
      // out of the same PEM text.
      const pem = readFileSync(opts.tls.clientCertFile);
      connect.cert = pem;
      connect.key = pem;
    }
    this.#agent = new Agent({
      connections: opts.connections ?? 10,
      connect,
      headersTimeout: opts.retry.timeoutMs,
      bodyTimeout: opts.retry.timeoutMs,
    });
  }

  /** Sends the request with retries; resolves with a 2xx response, rejects with MlflowError. */
  async send(spec: RequestSpec): Promise<RawResponse> {
    const endpoint = `${spec.method} ${this.#prefix}${spec.path}`;
    let attempt = 0;
    for (;;) {
      attempt += 1;
      let failure: MlflowError;
      try {
        const res = await this.#once(spec);
        if (res.status >= 200 && res.status < 300) return res;
        failure = this.#httpError(endpoint, res, attempt);
      } catch (e) {
        if (e instanceof MlflowError) throw e;
        failure = networkError(endpoint, e, attempt, spec.signal);
      }
      const retryable = failure.kind === 'network'
        ? failure.code !== 'TLS_ERROR' && failure.code !== 'DNS_ERROR'
        : failure.status !== undefined && this.#retry.retryStatuses.has(failure.status);
      const allowed = spec.retry === 'all' || failure.applied === 'no';
      if (!retryable || !allowed || attempt > this.#retry.maxRetries || spec.signal?.aborted) throw failure;
      try {
        await sleep(retryDelayMs(this.#retry, attempt, failure.retryAfterMs), spec.signal);
      } catch {
        throw networkError(endpoint, spec.signal?.reason ?? new Error('aborted'), attempt, spec.signal);
      }
    }
  }

  /** Sends a JSON request and parses the JSON answer (an empty 2xx body counts as `{}`). */
  async json<T>(spec: RequestSpec): Promise<T> {
    const res = await this.send({ ...spec, contentType: spec.contentType ?? 'application/json' });
    const text = res.body.toString('utf8');
    if (text.trim() === '') return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      // A 2xx that is not JSON is the UI's HTML fallback: the base URL points at the wrong place.
      throw new MlflowError(
        { kind: 'protocol', code: 'ENDPOINT_NOT_FOUND', status: res.status, endpoint: `${spec.method} ${this.#prefix}${spec.path}`, applied: 'no', attempts: 1 },
        `${spec.method} ${this.#prefix}${spec.path} answered ${res.status} with ${res.contentType || 'no content type'}, not JSON: ` +
          `is ${this.baseUrl.origin}${this.#prefix} an MLflow tracking server (check the URI and any path prefix)?`,
      );
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  async #once(spec: RequestSpec): Promise<RawResponse> {
    const query = encodeQuery(spec.query);
    const path = `${this.#prefix}${spec.path}${query}`;
    this.#onAttempt?.({ method: spec.method, path: spec.path });
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: 'application/json, */*' };
    if (this.#auth !== undefined) headers.authorization = this.#auth;
    if (spec.contentType !== undefined) headers['content-type'] = spec.contentType;
    const options: Dispatcher.RequestOptions = {
      origin: spec.origin ?? this.baseUrl.origin,
      path,
      method: spec.method,
      headers,
      signal: spec.signal,
    };
    if (spec.json !== undefined) options.body = spec.json;
    else if (spec.body !== undefined) options.body = spec.body();
    const res = await this.#agent.request(options);
    const body = Buffer.from(await res.body.arrayBuffer());
    const ct = res.headers['content-type'];
    const retryAfter = res.headers['retry-after'];
    const out: RawResponse & { retryAfter?: string } = {
      status: res.statusCode,
      body,
      contentType: Array.isArray(ct) ? ct.join(', ') : ct ?? '',
    };
    if (typeof retryAfter === 'string') out.retryAfter = retryAfter;
    return out;
  }

  #httpError(endpoint: string, res: RawResponse & { retryAfter?: string }, attempts: number): MlflowError {
    const text = res.body.toString('utf8');
    let code = codeForStatus(res.status);
    let detail = text.trim().slice(0, 500);
    try {
      const parsed = JSON.parse(text) as { error_code?: unknown; message?: unknown };
      if (typeof parsed.error_code === 'string') code = parsed.error_code;
      if (typeof parsed.message === 'string') detail = parsed.message.slice(0, 2000);
    } catch {
      // Not MLflow's JSON error (HTML from a proxy, plain text from the auth app): keep the status code.
      if (/html/i.test(res.contentType) || /^\s*</.test(detail)) detail = 'an HTML page, not an MLflow API answer (check the tracking URI and its path prefix)';
    }
    const retryAfterMs = parseRetryAfterMs(res.retryAfter);
    const hint = res.status === 401 ? ' (check MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN)' : '';
    const message = `${endpoint} failed: HTTP ${res.status} ${code}${detail ? `: ${detail}` : ''}${hint}`;
    return new MlflowError(
      {
        kind: 'http', code, status: res.status, endpoint, applied: appliedForStatus(res.status), attempts,
        ...(retryAfterMs !== undefined && { retryAfterMs }),
      },
      this.#redactor ? this.#redactor.redact(message) : message,
    );
  }
}

function authorizationHeader(auth: Auth): string | undefined {
  switch (auth.kind) {
    case 'none': return undefined;
    case 'basic': return `Basic ${Buffer.from(`${auth.username}:${auth.password.reveal()}`).toString('base64')}`;
    case 'bearer': return `Bearer ${auth.token.reveal()}`;
  }
}

function encodeQuery(query: RequestSpec['query']): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) params.append(k, item);
    else params.append(k, String(v));
  }
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

const REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);
const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN']);

/** Maps an undici/Node failure to a typed error, deciding whether the server may have acted on it. */
function networkError(endpoint: string, e: unknown, attempts: number, signal?: AbortSignal): MlflowError {
  const cause = e as { code?: unknown; name?: unknown; message?: unknown; cause?: { code?: unknown } };
  const code = typeof cause?.code === 'string' ? cause.code
    : typeof cause?.cause?.code === 'string' ? cause.cause.code : undefined;
  const text = typeof cause?.message === 'string' ? cause.message : String(e);
  if (signal?.aborted || cause?.name === 'AbortError' || code === 'UND_ERR_ABORTED') {
    return new MlflowError({ kind: 'aborted', code: 'ABORTED', endpoint, applied: 'maybe', attempts }, `${endpoint}: aborted`, { cause: e });
  }
  let mapped: string;
  let applied: Applied;
  if (code !== undefined && REFUSED.has(code)) {
    mapped = code === 'UND_ERR_CONNECT_TIMEOUT' ? 'CONNECT_TIMEOUT' : 'CONNECTION_REFUSED';
    applied = 'no';
  } else if (code !== undefined && DNS.has(code)) {
    mapped = 'DNS_ERROR';
    applied = 'no';
  } else if (code !== undefined && (/CERT|SSL|TLS/.test(code))) {
    mapped = 'TLS_ERROR';
    applied = 'no';
  } else if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    mapped = 'TIMEOUT';
    applied = 'maybe';
  } else {
    // Reset, closed socket, broken pipe: the request may have been read and applied.
    mapped = 'CONNECTION_RESET';
    applied = 'maybe';
  }
  return new MlflowError(
    { kind: 'network', code: mapped, endpoint, applied, attempts },
    `${endpoint}: ${mapped.toLowerCase().replace(/_/g, ' ')} (${code ?? text}) after ${attempts} attempt${attempts === 1 ? '' : 's'}`,
    { cause: e },
  );
}
