// The MLflow REST client: typed RPCs, the official client's retry policy, the server's limits.
export { MlflowClient, type CreateRunRequest, type SearchRunsRequest, type CallOptions, type LogBatchOptions } from './client.js';
export { MlflowError, type Applied, type MlflowErrorKind, TRANSIENT_STATUSES } from './errors.js';
export { LIMITS, chunkBatch, keyProblem, truncate, type BatchContent } from './limits.js';
export { DEFAULT_RETRY_POLICY, backoffMs, parseRetryAfterMs, retryDelayMs, retryPolicyFromEnv, type RetryPolicy } from './retry.js';
export { type Auth, type TlsSettings, type TransportOptions, type RetryMode } from './transport.js';
export * from './types.js';
