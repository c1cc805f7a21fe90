// Downloading one archive file into the object store: bounded retries with exponential backoff and
// jitter, resume of a partial file with an HTTP Range request, a stall timeout between body chunks,
// a size check against what the server announced, and a content check (`validate`) before the
// file enters the store. Every failure names the URL; nothing invalid is ever committed.
import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import type { ObjectStore, StoredRef } from './store.js';

export interface DownloadOptions {
  readonly retries: number;
  /** First backoff in ms; doubles each attempt, with +-25% jitter. */
  readonly backoffMs: number;
  /** Abort an attempt when no body bytes arrive for this long (ms). */
  readonly stallMs: number;
  readonly signal: AbortSignal;
  /** Called on each retry, for the log. */
  readonly onRetry?: (url: string, attempt: number, reason: string) => void;
}

export interface DownloadOutcome {
  readonly ref: StoredRef;
  /** True when the store already had the file and nothing was downloaded. */
  readonly reused: boolean;
  readonly attempts: number;
  readonly bytes: number;
}

/** A permanent failure (retrying cannot help) or the last of the retryable ones. */
export class DownloadError extends Error {
  constructor(readonly url: string, readonly reason: string, readonly attempts: number) {
    super(`${url}: ${reason}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}`);
  }
}

class Permanent extends Error {}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(t); reject(new Error('aborted')); }, { once: true });
});

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** One attempt: append to the partial file from where it stops; resolves when the body is complete. */
async function attempt(url: string, part: string, o: DownloadOptions): Promise<number> {
  const have = await sizeOf(part);
  const res = await request(url, {
    method: 'GET',
    headers: have > 0 ? { range: `bytes=${have}-` } : {},
    headersTimeout: o.stallMs,
    bodyTimeout: o.stallMs,
    signal: o.signal,
  });
  const status = res.statusCode;
  if (status === 416 && have > 0) {
    // Nothing left to send: the partial file is already whole (validation decides).
    await res.body.dump();
    return 0;
  }
  if (status === 404 || status === 403 || status === 410) {
    await res.body.dump();
    throw new Permanent(`HTTP ${status}`);
  }
  if (status !== 200 && status !== 206) {
    await res.body.dump();
    throw new Error(`HTTP ${status}`);
  }
  // 200 to a Range request means the server sends the whole file: start over.
  const append = status === 206 && have > 0;
  let expected: number | undefined;
  const range = res.headers['content-range'];
  const len = res.headers['content-length'];
  if (status === 206 && typeof range === 'string') {
    const m = /bytes (\d+)-(\d+)\/(\d+|\*)/.exec(range);
    if (!m || Number(m[1]) !== have) {
      await res.body.dump();
      await rm(part, { force: true });
      throw new Error(`server answered the range request with "${range}"`);
    }
    if (m[3] !== '*') expected = Number(m[3]);
  } else if (typeof len === 'string') expected = Number(len);
  await mkdir(dirname(part), { recursive: true });
  await pipeline(res.body, createWriteStream(part, { flags: append ? 'a' : 'w' }));
  const got = await sizeOf(part);
  if (expected !== undefined && got !== expected) throw new Error(`body ended early: ${got} of ${expected} bytes`);
  return got - (append ? have : 0);
}

/**
 * Downloads `url` into the store under `key` unless the store has it. `validate` checks the
 * finished file (FITS structure, size, ...) and returns an error message or null.
 */
export async function download(
  url: string, key: string, store: ObjectStore, validate: (path: string) => Promise<string | null>, o: DownloadOptions,
): Promise<DownloadOutcome> {
  const have = await store.lookup(key);
  if (have) return { ref: have, reused: true, attempts: 0, bytes: 0 };
  const part = store.partialPath(key);
  let bytes = 0;
  let last = '';
  for (let n = 1; n <= o.retries + 1; n++) {
    if (o.signal.aborted) throw new DownloadError(url, 'aborted', n - 1);
    try {
      bytes += await attempt(url, part, o);
      const bad = await validate(part);
      if (bad === null) return { ref: await store.commit(key, part), reused: false, attempts: n, bytes };
      // Invalid content: resuming would keep the bad bytes, so start this file over.
      await rm(part, { force: true });
      last = `invalid file: ${bad}`;
    } catch (e) {
      if (e instanceof Permanent) {
        await rm(part, { force: true });
        throw new DownloadError(url, e.message, n);
      }
      if (o.signal.aborted) throw new DownloadError(url, 'aborted', n);
      const err = e as { code?: string; message?: string };
      last = err.code === 'UND_ERR_BODY_TIMEOUT' || err.code === 'UND_ERR_HEADERS_TIMEOUT'
        ? `stalled: no data for ${o.stallMs} ms` : (err.message ?? String(e));
    }
    if (n <= o.retries) {
      o.onRetry?.(url, n, last);
      const backoff = o.backoffMs * 2 ** (n - 1) * (0.75 + 0.5 * Math.random());
      await sleep(backoff, o.signal);
    }
  }
  throw new DownloadError(url, last, o.retries + 1);
}
