// Typed failures of the MLflow REST client. Every failure says whether the server may have
// applied the request, because metric writes append: the delivery layer must know when a retry
// could duplicate points.

/**
 * - `no`: the request certainly had no effect (connection refused, rejected before processing,
 *   rate limited, a 4xx validation error).
 * - `maybe`: the request may have been applied (reset after sending, timeout waiting for the
 *   answer, a 5xx from the server or a proxy).
 */
export type Applied = 'no' | 'maybe';

export type MlflowErrorKind =
  /** The server answered with a non-2xx status. */
  | 'http'
  /** No usable answer: connection refused or reset, DNS, TLS, timeout. */
  | 'network'
  /** The server answered 2xx but not with the JSON an MLflow endpoint returns (wrong base path?). */
  | 'protocol'
  /** The caller aborted (Tracker.close deadline). */
  | 'aborted'
  /** A request the client refuses to send (over the server's limits, bad artifact URI). */
  | 'invalid-request';

export interface MlflowErrorFields {
  readonly kind: MlflowErrorKind;
  /** MLflow `error_code` (`RESOURCE_DOES_NOT_EXIST`, ...), or one derived from the status. */
  readonly code: string;
  readonly status?: number;
  /** `POST /api/2.0/mlflow/runs/log-batch`: method and path, never the query or credentials. */
  readonly endpoint: string;
  readonly applied: Applied;
  /** How many attempts were made, retries included. */
  readonly attempts: number;
  /** The server's `Retry-After`, in ms, when it sent one. */
  readonly retryAfterMs?: number;
}

export class MlflowError extends Error implements MlflowErrorFields {
  readonly kind: MlflowErrorKind;
  readonly code: string;
  readonly status?: number;
  readonly endpoint: string;
  readonly applied: Applied;
  readonly attempts: number;
  readonly retryAfterMs?: number;

  constructor(fields: MlflowErrorFields, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MlflowError';
    this.kind = fields.kind;
    this.code = fields.code;
    if (fields.status !== undefined) this.status = fields.status;
    this.endpoint = fields.endpoint;
    this.applied = fields.applied;
    this.attempts = fields.attempts;
    if (fields.retryAfterMs !== undefined) this.retryAfterMs = fields.retryAfterMs;
  }

  /** Worth trying again later: the server or the network may recover. */
  get transient(): boolean {
    if (this.kind === 'network' || this.kind === 'aborted') return true;
    if (this.kind === 'http') return this.status === undefined || TRANSIENT_STATUSES.has(this.status);
    return false;
  }

  /** The configuration is wrong (credentials, permissions, base path, TLS): no op will get through. */
  get configuration(): boolean {
    if (this.kind === 'protocol') return true;
    if (this.kind === 'network') return this.code === 'TLS_ERROR' || this.code === 'DNS_ERROR';
    return this.status === 401 || this.status === 403 || this.code === 'ENDPOINT_NOT_FOUND' || this.code === 'EXPERIMENT_DELETED';
  }
}

/** The statuses the official client retries (mlflow/utils/request_utils.py). */
export const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** Status to error code when the body is not MLflow's JSON error (proxy HTML, auth plain text). */
export function codeForStatus(status: number): string {
  switch (status) {
    case 400: return 'BAD_REQUEST';
    case 401: return 'UNAUTHENTICATED';
    case 403: return 'PERMISSION_DENIED';
    case 404: return 'ENDPOINT_NOT_FOUND';
    case 408: return 'REQUEST_TIMEOUT';
    case 409: return 'RESOURCE_CONFLICT';
    case 413: return 'REQUEST_TOO_LARGE';
    case 429: return 'REQUEST_LIMIT_EXCEEDED';
    case 499: return 'CANCELLED';
    case 500: return 'INTERNAL_ERROR';
    case 501: return 'NOT_IMPLEMENTED';
    case 502: return 'BAD_GATEWAY';
    case 503: return 'TEMPORARILY_UNAVAILABLE';
    case 504: return 'DEADLINE_EXCEEDED';
    default: return status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST';
  }
}

/**
 * Whether a response status means the request may have been applied. 4xx are validation or auth
 * failures raised before any write; 429 is a rate limit, also before processing. 5xx and 408 can
 * come after a partial write (log-batch is not atomic), or from a proxy that gave up waiting.
 */
export function appliedForStatus(status: number): Applied {
  if (status === 408) return 'maybe';
  return status >= 500 ? 'maybe' : 'no';
}
