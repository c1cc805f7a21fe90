// The official Python client's HTTP retry policy (mlflow/utils/request_utils.py on urllib3's
// Retry), reproduced so that a massflow run behaves like `mlflow` against the same server:
// the same environment variables, defaults, retried statuses, backoff curve and Retry-After rule.
import { TRANSIENT_STATUSES } from './errors.js';
import { err, ok, type Result } from '../../core/result.js';

export interface RetryPolicy {
  /** Retries after the first attempt (MLFLOW_HTTP_REQUEST_MAX_RETRIES, default 7, at most 10). */
  readonly maxRetries: number;
  /** Seconds; the n-th retry waits factor * 2^(n-1) (MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR, default 2). */
  readonly backoffFactor: number;
  /** Seconds of uniform random jitter added to each backoff (MLFLOW_HTTP_REQUEST_BACKOFF_JITTER, default 1). */
  readonly backoffJitter: number;
  /** urllib3's cap on one backoff wait: 120 s. */
  readonly backoffMaxMs: number;
  /** Honour `Retry-After` on a retried response (MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER, default true). */
  readonly respectRetryAfter: boolean;
  /** urllib3's cap on a Retry-After wait: 6 h. */
  readonly retryAfterMaxMs: number;
  /** Per-request timeout for connect and for each wait on the server (MLFLOW_HTTP_REQUEST_TIMEOUT, default 120 s). */
  readonly timeoutMs: number;
  /** Statuses that are retried: 408, 429, 500, 502, 503, 504. */
  readonly retryStatuses: ReadonlySet<number>;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxRetries: 7,
  backoffFactor: 2,
  backoffJitter: 1,
  backoffMaxMs: 120_000,
  respectRetryAfter: true,
  retryAfterMaxMs: 6 * 3600_000,
  timeoutMs: 120_000,
  retryStatuses: TRANSIENT_STATUSES,
});

/** The limits the official client enforces on its own settings (rest_utils.py). */
const MAX_RETRIES_LIMIT = 10;
const MAX_BACKOFF_FACTOR_LIMIT = 120;

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the MLFLOW_HTTP_* variables; an unparsable value is an error, not a silent default. */
export function retryPolicyFromEnv(env: Env, base: RetryPolicy = DEFAULT_RETRY_POLICY): Result<RetryPolicy, string[]> {
  const problems: string[] = [];
  const num = (name: string, min: number, max: number, integer: boolean): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return undefined;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected ${integer ? 'an integer' : 'a number'} in [${min}, ${max}]`);
      return undefined;
    }
    return v;
  };
  const bool = (name: string): boolean | undefined => {
    const raw = env[name]?.trim().toLowerCase();
    if (raw === undefined || raw === '') return undefined;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    problems.push(`${name}=${JSON.stringify(env[name])}: expected true or false`);
    return undefined;
  };
  const maxRetries = num('MLFLOW_HTTP_REQUEST_MAX_RETRIES', 0, MAX_RETRIES_LIMIT, true);
  const backoffFactor = num('MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR', 0, MAX_BACKOFF_FACTOR_LIMIT, false);
  const backoffJitter = num('MLFLOW_HTTP_REQUEST_BACKOFF_JITTER', 0, 3600, false);
  const timeoutS = num('MLFLOW_HTTP_REQUEST_TIMEOUT', 0.001, 86_400, false);
  const respect = bool('MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER');
  if (problems.length > 0) return err(problems);
  return ok({
    ...base,
    ...(maxRetries !== undefined && { maxRetries }),
    ...(backoffFactor !== undefined && { backoffFactor }),
    ...(backoffJitter !== undefined && { backoffJitter }),
    ...(timeoutS !== undefined && { timeoutMs: Math.round(timeoutS * 1000) }),
    ...(respect !== undefined && { respectRetryAfter: respect }),
  });
}

/**
 * Wait before retry number `retry` (1-based), as urllib3 computes it: the first retry goes at once,
 * the n-th waits factor * 2^(n-1) seconds plus jitter, capped at 120 s.
 */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  if (retry <= 1) return 0;
  const seconds = policy.backoffFactor * 2 ** (retry - 1) + (policy.backoffJitter > 0 ? random() * policy.backoffJitter : 0);
  return Math.max(0, Math.min(policy.backoffMaxMs, seconds * 1000));
}

/** `Retry-After` as delay-seconds or an HTTP date; undefined when absent or unparsable. */
export function parseRetryAfterMs(header: string | undefined, now: number = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const h = header.trim();
  if (/^[0-9]+$/.test(h)) return Number(h) * 1000;
  const at = Date.parse(h);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * The wait before retry number `retry` after a response: Retry-After wins when the policy
 * respects it and it is positive (urllib3 falls back to backoff for a zero value).
 */
export function retryDelayMs(policy: RetryPolicy, retry: number, retryAfterMs?: number, random?: () => number): number {
  if (policy.respectRetryAfter && retryAfterMs !== undefined && retryAfterMs > 0) {
    return Math.min(retryAfterMs, policy.retryAfterMaxMs);
  }
  return backoffMs(policy, retry, random);
}

/** Sleeps `ms`, or rejects early with the signal's reason when aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 && !signal?.aborted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
