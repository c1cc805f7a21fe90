// What delivery does after a window: go on, wait and retry, or stop. Pure, so both policies are
// tested without a server or a clock (test/track/retry-decision.test.ts).
//
// - `live` (the runner's background delivery) never gives up on a server that may come back while
//   the run is still recording; only closing the tracker (or its deadline) ends it, and a wrong
//   configuration (credentials, base path, TLS) is not waited on once the tracker is closing.
// - `sync` (`massflow sync`) gives up on the official client's retry budget: a server that stays
//   down, or a configuration no retry can fix, ends this sync and the rest waits for the next one.
import { backoffMs, type RetryPolicy } from './mlflow/retry.js';

export type DeliveryMode = 'live' | 'sync';

/** What a failed window reports; a window that got through needs nothing more. */
export interface WindowFailure {
  /** New data landed before the failure (points written, runs created). */
  readonly progress: boolean;
  /** No op can get through until the configuration changes. */
  readonly configuration: boolean;
  /** HTTP attempts the transport already made for the failing request. */
  readonly attempts: number;
  readonly retryAfterMs?: number | undefined;
}

export interface RetryInput {
  readonly mode: DeliveryMode;
  readonly policy: RetryPolicy;
  /** Consecutive failed windows without progress before this one. */
  readonly failures: number;
  /** undefined: the window got through. */
  readonly failure: WindowFailure | undefined;
  /** The caller aborted (close deadline, Ctrl-C). */
  readonly aborted: boolean;
  /** live: the tracker is closing, so nothing new will be recorded. */
  readonly stopping: boolean;
  /** [0, 1) for the backoff jitter; tests pass a constant. */
  readonly random?: () => number;
}

export type RetryDecision =
  /** Deliver the next window now. */
  | { readonly kind: 'next'; readonly failures: number }
  /** Wait, then send this window again (it reconciles first). */
  | { readonly kind: 'retry'; readonly failures: number; readonly waitMs: number }
  /** End delivery; what is left stays in the outbox. */
  | { readonly kind: 'stop'; readonly failures: number };

/** Shortest wait between live retries, so a server answering instantly with errors is not hammered. */
const LIVE_MIN_WAIT_MS = 50;
/** urllib3 stops growing its backoff exponent here (the wait is capped at backoffMaxMs anyway). */
const LIVE_MAX_RETRY_INDEX = 10;

export function retryDecision(i: RetryInput): RetryDecision {
  if (i.failure === undefined) return { kind: 'next', failures: 0 };
  const f = i.failure;
  if (i.aborted) return { kind: 'stop', failures: i.failures };
  // A window that got new data through is retried at once (it reconciles first); one that got
  // nothing through backs off on the official curve.
  const failures = f.progress ? 0 : i.failures + 1;
  const retryAfter = f.retryAfterMs ?? 0;
  if (i.mode === 'live') {
    if (f.configuration && i.stopping) return { kind: 'stop', failures };
    const backoff = backoffMs(i.policy, Math.min(failures + 1, LIVE_MAX_RETRY_INDEX), i.random);
    return { kind: 'retry', failures, waitMs: Math.max(backoff, retryAfter, LIVE_MIN_WAIT_MS) };
  }
  // A request the transport already retried on the official schedule (a server that stays down)
  // ends this sync. An ambiguous metric write, which the transport hands back at once, is retried
  // here on the same schedule after reconciling.
  const exhausted = f.attempts > i.policy.maxRetries;
  if (f.configuration || exhausted || failures > i.policy.maxRetries) return { kind: 'stop', failures };
  return { kind: 'retry', failures, waitMs: Math.max(backoffMs(i.policy, failures + 1, i.random), retryAfter) };
}
