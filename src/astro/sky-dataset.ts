// A sky dataset directory, as sim-sky and fetch-sdss write it: catalog.csv and frames/ in the DR12
// archive layout. Lists the frames and reads their WCS from the header alone (the first
// decompressed block), so planning which frames feed which cutouts costs no full decompression.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { bunzip2Head } from './bz2.js';
import { fitsError, type FitsError } from './fits-error.js';
import { getNumber, parseHeader } from './fits-header.js';
import { err, ok, type Result } from '../core/result.js';
import { parseFrameName, type ParsedFrameName } from './sdss-archive.js';
import { wcsFromHeader, type TanWcs } from './wcs.js';

export interface FrameFile extends ParsedFrameName {
  readonly path: string;
}

export async function listFrames(skyDir: string): Promise<FrameFile[]> {
  const root = join(skyDir, 'frames');
  const out: FrameFile[] = [];
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  for (const e of entries) {
    // Symlinked frames count too (a user may link an existing archive mirror into a dataset).
    if (!e.isFile() && !e.isSymbolicLink()) continue;
    const parsed = parseFrameName(e.name);
    if (parsed) out.push({ ...parsed, path: join(e.parentPath, e.name) });
  }
  // Stable order: run, camcol, field, band.
  const bandOrder = 'ugriz';
  return out.sort((a, b) => a.run - b.run || a.camcol - b.camcol || a.field - b.field || bandOrder.indexOf(a.band) - bandOrder.indexOf(b.band));
}

export interface FrameHeaderInfo {
  readonly wcs: TanWcs;
  readonly width: number;
  readonly height: number;
}

export async function readFrameHeader(path: string): Promise<Result<FrameHeaderInfo, FitsError>> {
  const head = await bunzip2Head(path, (b) => b.length >= 2880 * 12 || /END {77}/.test(b.toString('latin1', 0, Math.min(b.length, 2880 * 12))));
  if (!head.ok) return head;
  const h = parseHeader(head.value, 0);
  if (!h.ok) return err(fitsError(h.error.offset + 80 > head.value.length ? 'truncated' : 'malformed', path, h.error.offset, 0, h.error.message));
  const width = getNumber(h.value.header, 'NAXIS1');
  const height = getNumber(h.value.header, 'NAXIS2');
  if (width === undefined || height === undefined) return err(fitsError('malformed', path, 0, 0, 'frame header has no NAXIS1/NAXIS2'));
  const wcs = wcsFromHeader(h.value.header, path, 0);
  return wcs.ok ? ok({ wcs: wcs.value, width, height }) : wcs;
}
