// bzip2 through the system `bzip2` program (C; on every Linux/macOS machine that handles SDSS data),
// run as a child process so decompression overlaps the JS work and uses a second core. Its measured
// speed is in docs/astro.md. A failure is a result naming the file, with how far decompression got.
import { Readable } from 'node:stream';
import { execa } from 'execa';
import { fitsError, type FitsError } from './fits-error.js';
import { err, ok, type Result } from '../core/result.js';

const MAX = 2 ** 31 - 1;

function describe(e: unknown): { stderr: string; partial: number; missing: boolean } {
  const x = e as { stderr?: unknown; stdout?: unknown; code?: unknown };
  const stderr = typeof x.stderr === 'string' ? x.stderr.trim() : x.stderr instanceof Uint8Array ? Buffer.from(x.stderr).toString().trim() : '';
  const partial = x.stdout instanceof Uint8Array ? x.stdout.length : 0;
  return { stderr, partial, missing: x.code === 'ENOENT' };
}

/** Decompresses a .bz2 file. `label` names it in errors (defaults to the path). */
export async function bunzip2File(path: string, label = path): Promise<Result<Buffer, FitsError>> {
  try {
    const r = await execa('bzip2', ['-dc', path], { encoding: 'buffer', maxBuffer: MAX, stripFinalNewline: false });
    return ok(Buffer.from(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength));
  } catch (e) {
    const d = describe(e);
    if (d.missing) return err(fitsError('io', label, null, null, 'the bzip2 program is not on PATH (install the bzip2 package)'));
    return err(fitsError('decompress', label, d.partial, null,
      `bzip2 stream is corrupt or truncated: ${d.stderr.replace(/^bzip2: /, '') || 'bzip2 failed'} (offset = decompressed bytes produced before the failure)`));
  }
}

/** Decompresses bytes already in memory. */
export async function bunzip2(bytes: Uint8Array, label: string): Promise<Result<Buffer, FitsError>> {
  try {
    const r = await execa('bzip2', ['-dc'], { input: bytes, encoding: 'buffer', maxBuffer: MAX, stripFinalNewline: false });
    return ok(Buffer.from(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength));
  } catch (e) {
    const d = describe(e);
    if (d.missing) return err(fitsError('io', label, null, null, 'the bzip2 program is not on PATH (install the bzip2 package)'));
    return err(fitsError('decompress', label, d.partial, null, `bzip2 stream is corrupt or truncated: ${d.stderr.replace(/^bzip2: /, '') || 'bzip2 failed'}`));
  }
}

/**
 * Compresses `bytes` into the file `path`. Level 9 (900k blocks) is what the SDSS archive uses;
 * level 1 (100k blocks) costs ~30% less CPU on frame-sized noise and reads back identically.
 */
export async function bzip2ToFile(bytes: Uint8Array | readonly Uint8Array[], path: string, level: 1 | 9 = 9): Promise<void> {
  const input = bytes instanceof Uint8Array ? bytes : Readable.from(bytes);
  await execa('bzip2', [`-${level}`, '-c'], { input, stdout: { file: path } });
}

/**
 * The first bytes of a .bz2 file's decompressed stream: enough for a FITS header without
 * decompressing a whole 12 MB frame. Reads until `want(bytesSoFar)` says stop, then ends bzip2.
 */
export async function bunzip2Head(path: string, want: (head: Buffer) => boolean): Promise<Result<Buffer, FitsError>> {
  const child = execa('bzip2', ['-dc', path], { encoding: 'buffer', buffer: false, reject: false });
  const chunks: Buffer[] = [];
  let head = Buffer.alloc(0);
  try {
    for await (const chunk of child.stdout) {
      chunks.push(Buffer.from(chunk as Uint8Array));
      head = Buffer.concat(chunks);
      if (want(head)) break;
    }
  } finally {
    child.kill();
  }
  const r = await child;
  if (head.length === 0) {
    const d = describe(r);
    if (d.missing) return err(fitsError('io', path, null, null, 'the bzip2 program is not on PATH (install the bzip2 package)'));
    return err(fitsError('decompress', path, 0, null, `bzip2 stream is corrupt or truncated: ${d.stderr.replace(/^bzip2: /, '') || 'no data'}`));
  }
  return ok(head);
}
