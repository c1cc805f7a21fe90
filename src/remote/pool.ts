// Bounded parallelism for transfers: at most `limit` tasks in flight. A task that finds the remote
// unreachable stops the rest (they would only fail the same way, each after its own retries).
import { RemoteError } from './store.js';

/** Objects above this size are large: streamed rather than held whole, and only LARGE_AT_ONCE moved at once. */
export const LARGE_OBJECT = 8 << 20;
export const LARGE_AT_ONCE = 8;

export interface PoolResult<T> { done: Map<T, unknown>; failed: Map<T, Error>; stopped: RemoteError | undefined }

/**
 * Runs `fn` over `items`, at most `limit` at once, and at most `large.limit` of the items that
 * `large.is` picks: a large object costs the server (and this process's buffers) per byte, so a
 * few large transfers at once move as much as many and cost less, while small ones gain from
 * many requests in flight.
 */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>, large?: { is: (item: T) => boolean; limit: number }): Promise<PoolResult<T>> {
  const done = new Map<T, unknown>();
  const failed = new Map<T, Error>();
  let stopped: RemoteError | undefined;
  const big = large ? items.filter(large.is) : [];
  const small = large ? items.filter((i) => !large.is(i)) : items;
  const bigLimit = Math.max(1, large?.limit ?? limit);
  let [nextBig, nextSmall, bigActive] = [0, 0, 0];
  const run = async (item: T) => {
    try { done.set(item, await fn(item)); } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      failed.set(item, err);
      if (err instanceof RemoteError && err.unreachable) stopped = err;
    }
  };
  // A worker takes a large item while fewer than bigLimit are under way, else a small one; with
  // neither to take it ends, since the workers holding large items take the rest of them.
  const worker = async () => {
    while (!stopped) {
      if (nextBig < big.length && bigActive < bigLimit) {
        bigActive++;
        await run(big[nextBig++]!);
        bigActive--;
      } else if (nextSmall < small.length) await run(small[nextSmall++]!);
      else return;
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
