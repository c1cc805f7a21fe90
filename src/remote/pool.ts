// Bounded parallelism for transfers: at most `limit` tasks in flight. A task that finds the remote
// unreachable stops the rest (they would only fail the same way, each after its own retries).
import { RemoteError } from './store.js';

export interface PoolResult<T> { done: Map<T, unknown>; failed: Map<T, Error>; stopped: RemoteError | undefined }

export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<PoolResult<T>> {
  const done = new Map<T, unknown>();
  const failed = new Map<T, Error>();
  let stopped: RemoteError | undefined;
  let next = 0;
  const worker = async () => {
    while (!stopped && next < items.length) {
      const item = items[next++]!;
      try { done.set(item, await fn(item)); } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        failed.set(item, err);
        if (err instanceof RemoteError && err.unreachable) stopped = err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return { done, failed, stopped };
}

/** Reads a small object whole; larger than `max` bytes is refused (an entry or a manifest gone wrong). */
export async function readAll(body: AsyncIterable<Uint8Array>, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > max) throw new Error(`larger than ${max} bytes`);
    parts.push(Buffer.from(c));
  }
  return Buffer.concat(parts);
}
