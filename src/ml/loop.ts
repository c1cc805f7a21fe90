// Small helpers every training and attribution loop needs.

/** What a caller of a training loop hears: each epoch's figures, progress, and when to stop. */
export interface TrainHooks<Epoch> {
  onEpoch?(e: Epoch): void;
  onProgress?(done: number, total: number): void;
  signal?: AbortSignal;
}

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
