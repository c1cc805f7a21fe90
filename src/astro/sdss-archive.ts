// The SDSS Science Archive Server layout for DR12 imaging (rerun 301): frame file names and paths,
// photoField tables, and which fields cover a sky position.
//   frames:     {frames root}/301/{run}/{camcol}/frame-{band}-{run:06d}-{camcol}-{field:04d}.fits.bz2
//   photoField: {photoObj root}/301/{run}/photoField-{run:06d}-{camcol}.fits
// The {run} directory is not zero-padded; the run in the file name is.
import { fitsError, type FitsError } from './fits-error.js';
import type { FitsFile } from './fits-structure.js';
import { findColumn, readTable } from './fits-table.js';
import { err, ok, type Result } from '../core/result.js';
import { BANDS, isBand, type Band } from './sdss-frame.js';

export const DR12_RERUN = 301;
export const DR12_FRAMES_URL = 'https://data.sdss.org/sas/dr12/boss/photoObj/frames/';
export const DR12_PHOTOOBJ_URL = 'https://data.sdss.org/sas/dr12/boss/photoObj/';
/** The SkyServer SQL search endpoint for DR12 (needs network; see fieldsFromSkyServer). */
export const DR12_SKYSERVER_SQL = 'https://skyserver.sdss.org/dr12/SkyServerWS/SearchTools/SqlSearch';

/** SDSS frame size: 2048 columns (across the scan) x 1489 rows (along it; 128 overlap with the next field). */
export const FRAME_WIDTH = 2048;
export const FRAME_HEIGHT = 1489;
export const PIXEL_SCALE_ARCSEC = 0.396;

export interface FieldId {
  readonly run: number;
  readonly camcol: number;
  readonly field: number;
  readonly rerun?: number;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

export function frameFileName(band: Band, f: FieldId): string {
  return `frame-${band}-${pad(f.run, 6)}-${f.camcol}-${pad(f.field, 4)}.fits.bz2`;
}

/** Path of a frame relative to the frames root, e.g. `301/2583/2/frame-r-002583-2-0136.fits.bz2`. */
export function frameRelPath(band: Band, f: FieldId): string {
  return `${f.rerun ?? DR12_RERUN}/${f.run}/${f.camcol}/${frameFileName(band, f)}`;
}

export function frameUrl(framesRoot: string, band: Band, f: FieldId): string {
  return new URL(frameRelPath(band, f), framesRoot.endsWith('/') ? framesRoot : `${framesRoot}/`).toString();
}

export function photoFieldRelPath(run: number, camcol: number, rerun = DR12_RERUN): string {
  return `${rerun}/${run}/photoField-${pad(run, 6)}-${camcol}.fits`;
}

export interface ParsedFrameName extends FieldId {
  readonly band: Band;
}

/** Parses `frame-r-002583-2-0136.fits.bz2` (the directory part, if any, is ignored). */
export function parseFrameName(name: string): ParsedFrameName | null {
  const m = /frame-([ugriz])-(\d{6})-([1-6])-(\d{4})\.fits(\.bz2)?$/.exec(name);
  if (!m || !isBand(m[1]!)) return null;
  return { band: m[1], run: Number(m[2]), camcol: Number(m[3]), field: Number(m[4]) };
}

export const fieldKey = (f: FieldId) => `${f.rerun ?? DR12_RERUN}/${f.run}/${f.camcol}/${f.field}`;

/** A field's sky box, as listed in photoField and window_flist tables (and CAS's Field/Frame). */
export interface FieldBox extends FieldId {
  readonly ramin: number;
  readonly ramax: number;
  readonly decmin: number;
  readonly decmax: number;
  /** Field centre. */
  readonly ra: number;
  readonly dec: number;
}

/** Reads field boxes from a photoField or window_flist table (columns RUN, CAMCOL, FIELD, RAMIN...). */
export function fieldsFromTable(f: FitsFile, hdu = 1): Result<FieldBox[], FitsError> {
  const h = f.hdus[hdu];
  if (!h) return err(fitsError('missing', f.file, null, hdu, 'no table HDU with the field list'));
  const t = readTable(f, h);
  if (!t.ok) return t;
  const need = ['RUN', 'CAMCOL', 'FIELD', 'RAMIN', 'RAMAX', 'DECMIN', 'DECMAX', 'RA', 'DEC'];
  const cols: Record<string, Float64Array> = {};
  for (const name of need) {
    const c = findColumn(t.value, name);
    if (!c || c.data.type !== 'number') return err(fitsError('missing', f.file, h.headerStart, hdu, `field table has no numeric ${name} column`));
    cols[name] = c.data.values;
  }
  // RERUN is a string column in photoField ('301'), numeric in some other tables.
  const rr = findColumn(t.value, 'RERUN');
  const rerunOf = (i: number): number => {
    if (!rr) return DR12_RERUN;
    if (rr.data.type === 'string') return Number(rr.data.values[i]) || DR12_RERUN;
    if (rr.data.type === 'number') return rr.data.values[i]!;
    return DR12_RERUN;
  };
  const out: FieldBox[] = [];
  for (let i = 0; i < t.value.rows; i++) {
    out.push({
      run: cols.RUN![i]!, camcol: cols.CAMCOL![i]!, field: cols.FIELD![i]!, rerun: rerunOf(i),
      ramin: cols.RAMIN![i]!, ramax: cols.RAMAX![i]!, decmin: cols.DECMIN![i]!, decmax: cols.DECMAX![i]!,
      ra: cols.RA![i]!, dec: cols.DEC![i]!,
    });
  }
  return ok(out);
}

/** Signed RA difference a - b folded into (-180, 180]. */
export function raDiff(a: number, b: number): number {
  let d = (a - b) % 360;
  if (d > 180) d -= 360;
  if (d <= -180) d += 360;
  return d;
}

/**
 * Fields whose box comes within `marginDeg` of (ra, dec), nearest centre first. The box test is
 * done in RA offsets from the box centre, so boxes that straddle RA 0/360 work. Callers that need
 * pixel precision check the frame's own WCS afterwards (boxes are approximate at the corners).
 */
export function fieldsCovering(boxes: readonly FieldBox[], ra: number, dec: number, marginDeg = 0): FieldBox[] {
  const cosd = Math.max(1e-6, Math.cos((dec * Math.PI) / 180));
  const hits: { box: FieldBox; d: number }[] = [];
  for (const b of boxes) {
    if (dec < b.decmin - marginDeg || dec > b.decmax + marginDeg) continue;
    const half = Math.abs(raDiff(b.ramax, b.ramin)) / 2;
    const mid = b.ramin + raDiff(b.ramax, b.ramin) / 2;
    if (Math.abs(raDiff(ra, mid)) > half + marginDeg / cosd) continue;
    hits.push({ box: b, d: Math.hypot(raDiff(ra, b.ra) * cosd, dec - b.dec) });
  }
  return hits.sort((a, b) => a.d - b.d).map((h) => h.box);
}

/** The SQL sent to SkyServer for the fields within `marginDeg` of a position (Frame table, zoom 0). */
export function skyServerFieldQuery(ra: number, dec: number, marginDeg: number): string {
  const cosd = Math.max(1e-6, Math.cos((dec * Math.PI) / 180));
  const dra = marginDeg / cosd;
  return [
    'SELECT DISTINCT run, rerun, camcol, field, ra, dec, raMin, raMax, decMin, decMax FROM Frame',
    `WHERE zoom = 0 AND rerun = ${DR12_RERUN}`,
    `AND decMin <= ${(dec + marginDeg).toFixed(6)} AND decMax >= ${(dec - marginDeg).toFixed(6)}`,
    `AND raMin <= ${(ra + dra).toFixed(6)} AND raMax >= ${(ra - dra).toFixed(6)}`,
  ].join(' ');
}

/**
 * Parses SkyServer's CSV answer (an optional `#Table1` line, a header, rows) into field boxes.
 * Column names are matched case-insensitively.
 */
export function parseSkyServerCsv(text: string, label: string): Result<FieldBox[], FitsError> {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  if (lines.length === 0) return ok([]);
  const head = lines[0]!.split(',').map((s) => s.trim().toLowerCase());
  const idx = (n: string) => head.indexOf(n.toLowerCase());
  const need = ['run', 'camcol', 'field', 'ra', 'dec', 'raMin', 'raMax', 'decMin', 'decMax'];
  for (const n of need) if (idx(n) < 0) return err(fitsError('malformed', label, null, null, `SkyServer answer has no ${n} column (header: ${lines[0]})`));
  const out: FieldBox[] = [];
  for (let i = 1; i < lines.length; i++) {
    const c = lines[i]!.split(',').map(Number);
    const v = (n: string) => c[idx(n)]!;
    if (need.some((n) => !Number.isFinite(v(n)))) return err(fitsError('malformed', label, null, null, `SkyServer answer line ${i + 1} is not numeric: ${lines[i]}`));
    out.push({ run: v('run'), camcol: v('camcol'), field: v('field'), rerun: idx('rerun') >= 0 ? v('rerun') : DR12_RERUN,
      ra: v('ra'), dec: v('dec'), ramin: v('raMin'), ramax: v('raMax'), decmin: v('decMin'), decmax: v('decMax') });
  }
  return ok(out);
}

export { BANDS };
export type { Band };
