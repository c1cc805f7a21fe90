// Streaming SHA-256 of a file with large reads: the throughput bound is the disk and OpenSSL.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { asDigest, type Digest } from '../core/brand.js';

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
