// The one delivery loop, shared by the runner's background delivery and `massflow sync`: take the
// next window of ops after the acknowledged position, hand it to the Deliverer, and let
// retryDecision say whether to go on, wait and resend, or stop. Where the windows come from is the
// caller's (memory while a run records, the outbox file for sync); so is what it reports.
import type { Deliverer, WindowOutcome } from './deliver.js';
import type { MlflowError } from './mlflow/errors.js';
import { sleep, type RetryPolicy } from './mlflow/retry.js';
import type { OutboxEntry } from './outbox.js';
import { retryDecision, type DeliveryMode } from './retry-decision.js';

export interface WindowSource {
  /** Up to `max` ops right after the acknowledged one, in order; [] when none are ready. */
  next(max: number): OutboxEntry[];
  /** With nothing ready: waits until more may be; false when no more will come. */
  more(): Promise<boolean>;
}

export interface DriveOptions {
  readonly mode: DeliveryMode;
  readonly deliverer: Deliverer;
  readonly source: WindowSource;
  readonly policy: RetryPolicy;
  readonly windowOps: number;
  readonly signal?: AbortSignal | undefined;
  /** live: whether the tracker is closing. */
  readonly stopping?: () => boolean;
  /** After every attempt at a window, whatever its outcome. */
  readonly onWindow?: (window: readonly OutboxEntry[], outcome: WindowOutcome) => void;
  /** After a failed window that will be retried. */
  readonly onRetry?: (error: MlflowError) => void;
}

export type DriveEnd =
  /** Nothing is left to send. */
  | { readonly kind: 'drained' }
  /** Delivery gave up or was aborted; the rest stays in the outbox (onWindow saw why). */
  | { readonly kind: 'stopped' }
  /** Not a server problem (the sync state cannot be written): delivery must not go on. */
  | { readonly kind: 'broken'; readonly message: string };

export async function driveDelivery(o: DriveOptions): Promise<DriveEnd> {
  let failures = 0;
  const stopped: DriveEnd = { kind: 'stopped' };
  while (!o.signal?.aborted) {
    const window = o.source.next(o.windowOps);
    if (window.length === 0) {
      if (!(await o.source.more())) return { kind: 'drained' };
      continue;
    }
    let outcome: WindowOutcome;
    try {
      outcome = await o.deliverer.deliverWindow(window);
    } catch (e) {
      return { kind: 'broken', message: (e as Error).message };
    }
    o.onWindow?.(window, outcome);
    const d = retryDecision({
      mode: o.mode,
      policy: o.policy,
      failures,
      failure: outcome.ok ? undefined : { progress: outcome.stats.progress, configuration: outcome.error.configuration, attempts: outcome.error.attempts, retryAfterMs: outcome.error.retryAfterMs },
      aborted: o.signal?.aborted ?? false,
      stopping: o.stopping?.() ?? false,
    });
    failures = d.failures;
    if (d.kind === 'next') continue;
    if (d.kind === 'stop' || outcome.ok) return stopped;
    o.onRetry?.(outcome.error);
    try {
      await sleep(d.waitMs, o.signal);
    } catch {
      return stopped;
    }
  }
  return stopped;
}
