// SHA-256 of a file's content. Large files stream with 1 MiB reads: the bound is the disk and
// OpenSSL. Small files (the common case of a data tree of 10^4-10^5 files) are read in one call into
// a buffer reused for every file: what costs there is the system calls and the work around each,
// not SHA-256. Both give the digest of the whole content.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { asDigest, type Digest } from '../core/brand.js';
import { sha256 } from './canonical.js';

const CHUNK = 1 << 20;
// One shared buffer per concurrent reader would be ideal; a small pool keeps allocation off the hot path.
const pool: Buffer[] = [];

export async function hashFile(path: string): Promise<{ digest: Digest; size: number }> {
  const buf = pool.pop() ?? Buffer.allocUnsafe(CHUNK);
  const fh = await open(path, 'r');
  try {
    const h = createHash('sha256');
    let size = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      h.update(bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead));
      size += bytesRead;
      if (bytesRead < CHUNK) {
        // A short read is usually the end; confirm without another 1 MiB allocation.
        const more = await fh.read(buf, 0, CHUNK, null);
        if (more.bytesRead === 0) break;
        h.update(buf.subarray(0, more.bytesRead));
        size += more.bytesRead;
      }
    }
    return { digest: asDigest(h.digest('hex')), size };
  } finally {
    await fh.close();
    pool.push(buf);
  }
}

/** Files smaller than this are hashed by `hashSmallFileSync`; larger ones by `hashFile`. */
export const SMALL_FILE = 256 * 1024;
let smallBuf: Buffer | undefined;

/**
 * The digest of a file whose stat said `size` (< SMALL_FILE) bytes: open, read, close, with no
 * fstat and no allocation (readFileSync does both, and costs about twice as much per file). Reads
 * stop at `size` bytes or the end, as readFileSync stops at its fstat's size. Undefined when the
 * file has grown to SMALL_FILE bytes since the stat: the caller streams it with `hashFile`.
 */
export function hashSmallFileSync(path: string, size: number): Digest | undefined {
  const buf = (smallBuf ??= Buffer.allocUnsafe(SMALL_FILE));
  const fd = openSync(path, 'r');
  try {
    let n = 0, got: number;
    do {
      got = readSync(fd, buf, n, SMALL_FILE - n, n);
      n += got;
    } while (got !== 0 && n < size && n < SMALL_FILE);
    return n === SMALL_FILE ? undefined : sha256(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/** `hashFile` without the thread pool, for a caller that must finish before anything else runs (the crash check). */
export function hashFileSync(path: string): Digest {
  const h = createHash('sha256');
  const buf = pool.pop() ?? Buffer.allocUnsafe(CHUNK);
  const fd = openSync(path, 'r');
  try {
    for (let n; (n = readSync(fd, buf, 0, CHUNK, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
    pool.push(buf);
  }
  return asDigest(h.digest('hex'));
}
