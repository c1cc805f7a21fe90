// The remote adapter: the few object-store operations the remote cache needs, addressed by keys
// relative to the remote's root (bucket + prefix). The S3 adapter is the real one; the in-memory
// fake serves unit tests of the transfer logic.
import type { Readable } from 'node:stream';

/**
 * A body to upload: bytes in memory, or a stream of `size` bytes (a large object read from disk).
 * A stream that fails midway fails the upload, and nothing is stored under the key.
 */
export type PutBody = { kind: 'bytes'; data: Uint8Array } | { kind: 'stream'; stream: Readable; size: number };

export type PutResult = 'written' | 'exists';

export interface RemoteStore {
  /** Where it points, for messages: `s3://bucket/prefix`, never credentials. */
  readonly url: string;
  /** True when the key exists. */
  has(key: string): Promise<boolean>;
  /** Every key under a prefix (relative to the root), page by page. */
  list(prefix: string): AsyncIterable<string>;
  /** The object's bytes as a stream, or undefined when there is no such key. */
  get(key: string): Promise<Readable | undefined>;
  /**
   * Writes a key. `sha256` (hex) lets the server refuse a body that does not match it; `ifAbsent`
   * makes the write conditional, answering 'exists' instead of overwriting.
   */
  put(key: string, body: PutBody, opts?: { sha256?: string; ifAbsent?: boolean }): Promise<PutResult>;
}

/** A failure talking to the remote, with a message fit for the user (no credentials, no stack). */
export class RemoteError extends Error {
  constructor(message: string, readonly unreachable = false) { super(message); }
}

/** Key layout under the remote root; the same sharding as the local cache. */
export const objectKey = (digest: string) => `objects/${digest.slice(0, 2)}/${digest.slice(2)}`;
export const entryKey = (fingerprint: string) => `entries/${fingerprint.slice(0, 2)}/${fingerprint.slice(2)}.json`;

export function digestFromObjectKey(key: string): string | undefined {
  const m = /^objects\/([0-9a-f]{2})\/([0-9a-f]{62})$/.exec(key);
  return m ? m[1]! + m[2]! : undefined;
}
