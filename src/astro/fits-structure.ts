// The HDU structure of a FITS byte stream: where each header and data unit starts and how long it is.
// Decoding of the data (images, tables) is in fits-image.ts and fits-table.ts; this module only
// finds the units and checks the file is whole, so a truncated download is caught before decoding.
import { fitsError, type FitsError } from './fits-error.js';
import { BLOCK, getNumber, getString, getValue, parseHeader, type Header } from './fits-header.js';
import { err, ok, type Result } from '../core/result.js';

export type HduKind = 'primary' | 'image' | 'bintable' | 'table' | 'other';

export interface Hdu {
  readonly index: number;
  readonly kind: HduKind;
  readonly header: Header;
  readonly headerStart: number;
  readonly dataStart: number;
  /** Bytes of data proper (without the padding to a block). */
  readonly dataLength: number;
  /** EXTNAME, when present. */
  readonly name: string | undefined;
}

export interface FitsFile {
  /** The path or label used in errors. */
  readonly file: string;
  readonly bytes: Uint8Array;
  readonly hdus: readonly Hdu[];
}

function isBlank(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const b = bytes[i]!;
    if (b !== 0 && b !== 0x20) return false;
  }
  return true;
}

function dataLength(h: Header, file: string, index: number, at: number): Result<number, FitsError> {
  const bitpix = getNumber(h, 'BITPIX');
  const naxis = getNumber(h, 'NAXIS');
  if (bitpix === undefined || ![8, 16, 32, 64, -32, -64].includes(bitpix)) {
    return err(fitsError('malformed', file, at, index, `BITPIX is ${String(getValue(h, 'BITPIX'))}, not one of 8, 16, 32, 64, -32, -64`));
  }
  if (naxis === undefined || !Number.isInteger(naxis) || naxis < 0 || naxis > 999) {
    return err(fitsError('malformed', file, at, index, `NAXIS is missing or invalid`));
  }
  if (naxis === 0) return ok(0);
  let n = 1;
  for (let k = 1; k <= naxis; k++) {
    const len = getNumber(h, `NAXIS${k}`);
    if (len === undefined || !Number.isInteger(len) || len < 0) {
      return err(fitsError('malformed', file, at, index, `NAXIS${k} is missing or invalid`));
    }
    n *= len;
  }
  const pcount = getNumber(h, 'PCOUNT') ?? 0;
  const gcount = getNumber(h, 'GCOUNT') ?? 1;
  return ok((Math.abs(bitpix) / 8) * gcount * (pcount + n));
}

/** Splits a FITS byte stream into HDUs; every HDU's header and data must be complete. */
export function parseFits(bytes: Uint8Array, file: string): Result<FitsFile, FitsError> {
  const hdus: Hdu[] = [];
  let pos = 0;
  if (bytes.length < BLOCK) {
    return err(fitsError('truncated', file, bytes.length, 0, `file is ${bytes.length} bytes, shorter than one 2880-byte FITS block`));
  }
  while (pos < bytes.length) {
    const index = hdus.length;
    if (index > 0 && isBlank(bytes, pos, Math.min(bytes.length, pos + BLOCK))) break; // trailing padding
    if (bytes.length - pos < BLOCK) {
      return err(fitsError('truncated', file, pos, index, `${bytes.length - pos} stray bytes after the last HDU (not a whole block)`));
    }
    const head = Buffer.from(bytes.buffer, bytes.byteOffset + pos, 10).toString('latin1');
    if (index === 0 && head !== 'SIMPLE  = ') {
      return err(fitsError('malformed', file, 0, 0, 'not a FITS file: it does not start with SIMPLE ='));
    }
    if (index > 0 && head !== 'XTENSION= ') {
      return err(fitsError('malformed', file, pos, index, 'expected an XTENSION card at the start of an extension'));
    }
    const parsed = parseHeader(bytes, pos);
    if (!parsed.ok) {
      const kind = parsed.error.offset + 80 > bytes.length ? 'truncated' : 'malformed';
      return err(fitsError(kind, file, parsed.error.offset, index, parsed.error.message));
    }
    const { header, dataStart } = parsed.value;
    if (index === 0 && getValue(header, 'SIMPLE') !== true) {
      return err(fitsError('malformed', file, 0, 0, 'SIMPLE is not T'));
    }
    const len = dataLength(header, file, index, pos);
    if (!len.ok) return len;
    const end = dataStart + len.value;
    if (end > bytes.length) {
      return err(fitsError('truncated', file, bytes.length, index,
        `file ends inside the data unit that starts at byte ${dataStart}: it needs ${len.value} bytes, ${Math.max(0, bytes.length - dataStart)} present`));
    }
    const xt = index === 0 ? undefined : getString(header, 'XTENSION')?.trim();
    const kind: HduKind = index === 0 ? 'primary'
      : xt === 'IMAGE' ? 'image'
      : xt === 'BINTABLE' || xt === 'A3DTABLE' ? 'bintable'
      : xt === 'TABLE' ? 'table' : 'other';
    hdus.push({ index, kind, header, headerStart: pos, dataStart, dataLength: len.value, name: getString(header, 'EXTNAME')?.trim() });
    // The last unit's padding may be missing in files written by careless tools; the data is whole.
    pos = Math.min(bytes.length, dataStart + Math.ceil(len.value / BLOCK) * BLOCK);
  }
  return ok({ file, bytes, hdus });
}

/** The HDU with this index or EXTNAME. */
export function findHdu(f: FitsFile, which: number | string): Result<Hdu, FitsError> {
  const h = typeof which === 'number' ? f.hdus[which] : f.hdus.find((x) => x.name === which);
  if (!h) return err(fitsError('missing', f.file, null, typeof which === 'number' ? which : null, `no HDU ${JSON.stringify(which)} (file has ${f.hdus.length})`));
  return ok(h);
}
