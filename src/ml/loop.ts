// Small helpers every training and attribution loop needs.

/** Thrown between batches when the run is cancelled; carries the signal's reason. */
export class AbortedError extends Error {
  constructor(reason: unknown) {
    super(`aborted${reason instanceof Error ? `: ${reason.message}` : reason ? `: ${String(reason)}` : ''}`);
    this.name = 'AbortError';
  }
}

export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(signal.reason);
}

/**
 * Lets timers and IPC run between batches: a training loop that never yields would hold back the
 * metrics and progress messages the stage sends to the runner until it ends.
 */
export const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));
