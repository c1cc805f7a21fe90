// Reading FITS files from disk, `.fits.bz2` and `.fits.gz` included (decompressed in memory).
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { bunzip2, bunzip2File } from './bz2.js';
import { fitsError, type FitsError } from './fits-error.js';
import { parseFits, type FitsFile } from './fits-structure.js';
import { err, type Result } from '../core/result.js';

export function isBz2Path(path: string): boolean {
  return path.endsWith('.bz2');
}

/** Reads and structurally checks a FITS file. Offsets in errors are into the decompressed stream. */
export async function readFitsFile(path: string): Promise<Result<FitsFile, FitsError>> {
  let bytes: Uint8Array;
  if (isBz2Path(path)) {
    const r = await bunzip2File(path);
    if (!r.ok) return r;
    bytes = r.value;
  } else {
    try {
      bytes = await readFile(path);
    } catch (e) {
      return err(fitsError('io', path, null, null, (e as Error).message));
    }
    // Catalogues are often distributed as .fits.gz; gzip is in node's zlib, no process needed.
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      try {
        bytes = gunzipSync(bytes);
      } catch (e) {
        return err(fitsError('decompress', path, null, null, `gzip stream is corrupt or truncated: ${(e as Error).message}`));
      }
    }
  }
  return parseFits(bytes, path);
}

/** Parses FITS bytes already in memory (decompressing first when `bz2`). */
export async function parseFitsBytes(bytes: Uint8Array, label: string, bz2: boolean): Promise<Result<FitsFile, FitsError>> {
  if (!bz2) return parseFits(bytes, label);
  const r = await bunzip2(bytes, label);
  return r.ok ? parseFits(r.value, label) : r;
}
