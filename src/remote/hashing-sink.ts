// The two ends of a large object's transfer, each hashing the bytes as they pass so that no object
// is read twice: a download written to an open file, and an upload that refuses to finish with
// bytes that are not its name.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { pipeline, Transform, Writable } from 'node:stream';

/** Background fdatasync once this many bytes were written since the last one. */
const FLUSH_EVERY = 8 << 20;

/**
 * Writes a download to an open file, hashing it on the way. The stream machinery batches the chunks
 * that arrive while a write is under way into one writev. Every FLUSH_EVERY bytes the data written
 * so far is handed to the disk in the background (fdatasync), so the disk writes while the network
 * delivers the rest, and the fsync that makes the whole file durable before it gets its name has
 * little left to wait for (instead of every object's data going to disk at the end, at once).
 * A store that names objects without an fsync (cache/write-back.ts) passes `flush: false`.
 */
export class HashingFileSink extends Writable {
  private readonly hash = createHash('sha256');
  size = 0;
  private unflushed = 0;
  private flushing: Promise<void> | undefined;
  private flushError: Error | undefined;

  constructor(private readonly fh: FileHandle, private readonly flush = true) { super({ highWaterMark: 1 << 20 }); }

  /** The hex SHA-256 of everything written; call once, after the stream finished. */
  digest(): string { return this.hash.digest('hex'); }

  override _writev(chunks: { chunk: Buffer }[], cb: (e?: Error | null) => void): void {
    const bufs = chunks.map((c) => c.chunk);
    for (const b of bufs) { this.hash.update(b); this.size += b.length; this.unflushed += b.length; }
    this.fh.writev(bufs).then(() => {
      if (this.flush && this.unflushed >= FLUSH_EVERY && !this.flushing) {
        this.unflushed = 0;
        this.flushing = this.fh.datasync().catch((e: Error) => { this.flushError = e; }).finally(() => { this.flushing = undefined; });
      }
      cb(this.flushError);
    }, cb);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this._writev([{ chunk }], cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    void (this.flushing ?? Promise.resolve()).then(() => cb(this.flushError));
  }
}

/** A local object whose content is not its name: it is never uploaded. */
export const damaged = (digest: string, size: number, got: string) => new Error(`local object ${digest} is damaged (its ${size} bytes hash to ${got})`);

/**
 * A local file's bytes for an upload, hashed on the way. The last chunk is held back until the
 * whole file has hashed to `digest` with `size` bytes; otherwise the stream fails instead, so a
 * damaged local object never reaches the remote whole: a PUT whose body ends short of its
 * Content-Length is not stored.
 */
export function verifiedFileStream(path: string, size: number, digest: string): Transform {
  const hash = createHash('sha256');
  let seen = 0;
  let held: Buffer | undefined;
  const check = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      seen += chunk.length;
      const out = held;
      held = chunk;
      cb(null, out);
    },
    flush(cb) {
      const got = hash.digest('hex');
      if (got !== digest || seen !== size) cb(damaged(digest, seen, got));
      else cb(null, held);
    },
  });
  // The reader sees a read error or a refusal as the stream's error; either closes the file.
  return pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), check, () => {});
}
