// Image HDUs (primary arrays and IMAGE extensions): decode to physical values, encode from them.
// BITPIX 8, 16, 32, 64, -32, -64 with BSCALE/BZERO (physical = BZERO + BSCALE * stored) and BLANK.
import { fitsError, type FitsError } from './fits-error.js';
import { getNumber, type Card } from './fits-header.js';
import type { FitsFile, Hdu } from './fits-structure.js';
import type { Unit } from './fits-write.js';
import { err, ok, type Result } from '../core/result.js';

export type Bitpix = 8 | 16 | 32 | 64 | -32 | -64;
export type PixelArray = Uint8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface FitsImage {
  readonly bitpix: Bitpix;
  /** NAXIS1, NAXIS2, ...: NAXIS1 varies fastest (x, the column index). */
  readonly shape: readonly number[];
  /**
   * Physical values in FITS order (row-major with x fastest). The stored type is kept when no
   * scaling applies (Float32Array for BITPIX -32); scaled integers become Float64Array, with BLANK
   * pixels as NaN. 64-bit integers become Float64Array (exact up to 2^53).
   */
  readonly data: PixelArray;
}

/** Decodes big-endian stored values into a native typed array. */
function decodeStored(bytes: Uint8Array, start: number, n: number, bitpix: Bitpix): PixelArray {
  const size = Math.abs(bitpix) / 8;
  // Copy into an aligned buffer, then swap in place with Buffer's native byte swaps (fast).
  const buf = Buffer.allocUnsafe(n * size);
  buf.set(bytes.subarray(start, start + n * size));
  switch (bitpix) {
    case 8:
      return new Uint8Array(buf.buffer, buf.byteOffset, n);
    case 16:
      buf.swap16();
      return new Int16Array(buf.buffer, buf.byteOffset, n);
    case 32:
      buf.swap32();
      return new Int32Array(buf.buffer, buf.byteOffset, n);
    case -32:
      buf.swap32();
      return new Float32Array(buf.buffer, buf.byteOffset, n);
    case -64:
      buf.swap64();
      return new Float64Array(buf.buffer, buf.byteOffset, n);
    case 64: {
      const view = new DataView(buf.buffer, buf.byteOffset, n * 8);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(i * 8, false));
      return out;
    }
  }
}

export function readImage(f: FitsFile, hdu: Hdu): Result<FitsImage, FitsError> {
  if (hdu.kind !== 'primary' && hdu.kind !== 'image') {
    return err(fitsError('malformed', f.file, hdu.headerStart, hdu.index, `HDU ${hdu.index} is a ${hdu.kind}, not an image`));
  }
  const h = hdu.header;
  const bitpix = getNumber(h, 'BITPIX') as Bitpix;
  const naxis = getNumber(h, 'NAXIS') ?? 0;
  const shape: number[] = [];
  for (let k = 1; k <= naxis; k++) shape.push(getNumber(h, `NAXIS${k}`) ?? 0);
  const n = naxis === 0 ? 0 : shape.reduce((a, b) => a * b, 1);
  const stored = decodeStored(f.bytes, hdu.dataStart, n, bitpix);
  const bscale = getNumber(h, 'BSCALE') ?? 1;
  const bzero = getNumber(h, 'BZERO') ?? 0;
  const blank = bitpix > 0 ? getNumber(h, 'BLANK') : undefined;
  if (bscale === 1 && bzero === 0 && blank === undefined) return ok({ bitpix, shape, data: stored });
  if (bscale === 1 && bzero === 0 && bitpix < 0) return ok({ bitpix, shape, data: stored });
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = stored[i]!;
    out[i] = blank !== undefined && s === blank ? NaN : bzero + bscale * s;
  }
  return ok({ bitpix, shape, data: out });
}

export interface ImageSpec {
  readonly bitpix: Bitpix;
  readonly shape: readonly number[];
  /** Physical values, x fastest. Integer BITPIX with BSCALE/BZERO: stored = round((v - BZERO) / BSCALE). */
  readonly data: ArrayLike<number>;
  readonly bscale?: number;
  readonly bzero?: number;
  /** Further cards after the mandatory ones (WCS, calibration, provenance). */
  readonly cards?: readonly Card[];
}

const MANDATORY = /^(SIMPLE|XTENSION|BITPIX|NAXIS\d*|EXTEND|PCOUNT|GCOUNT|BSCALE|BZERO|END)$/;

/** An image as the primary HDU (`primary`) or an IMAGE extension. */
export function imageUnit(spec: ImageSpec, primary: boolean): Unit {
  const n = spec.shape.length === 0 ? 0 : spec.shape.reduce((a, b) => a * b, 1);
  if (spec.data.length !== n) throw new Error(`image data has ${spec.data.length} values, shape ${spec.shape.join('x')} needs ${n}`);
  const cards: Card[] = [];
  if (primary) cards.push({ key: 'SIMPLE', value: true, comment: 'conforms to FITS standard' });
  else cards.push({ key: 'XTENSION', value: 'IMAGE', comment: 'image extension' });
  cards.push({ key: 'BITPIX', value: spec.bitpix });
  cards.push({ key: 'NAXIS', value: spec.shape.length });
  spec.shape.forEach((len, i) => cards.push({ key: `NAXIS${i + 1}`, value: len }));
  if (primary) cards.push({ key: 'EXTEND', value: true });
  else cards.push({ key: 'PCOUNT', value: 0 }, { key: 'GCOUNT', value: 1 });
  const bscale = spec.bscale ?? 1;
  const bzero = spec.bzero ?? 0;
  if (spec.bscale !== undefined || spec.bzero !== undefined) {
    cards.push({ key: 'BZERO', value: bzero, float: true }, { key: 'BSCALE', value: bscale, float: true });
  }
  for (const c of spec.cards ?? []) if (c.commentary || !MANDATORY.test(c.key)) cards.push(c);
  return { cards, data: encodeStored(spec.data, spec.bitpix, bscale, bzero) };
}

function encodeStored(data: ArrayLike<number>, bitpix: Bitpix, bscale: number, bzero: number): Buffer {
  const n = data.length;
  const scaled = bscale !== 1 || bzero !== 0;
  const q = (v: number) => (scaled ? Math.round((v - bzero) / bscale) : Math.round(v));
  switch (bitpix) {
    case -32: {
      const a = data instanceof Float32Array && !scaled ? new Float32Array(data) : Float32Array.from(data, (v) => (v - bzero) / bscale);
      const b = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      return b.swap32();
    }
    case -64: {
      const a = Float64Array.from(data, (v) => (v - bzero) / bscale);
      return Buffer.from(a.buffer).swap64();
    }
    case 8: {
      const a = Uint8Array.from(data, (v) => Math.min(255, Math.max(0, q(v))));
      return Buffer.from(a.buffer);
    }
    case 16: {
      const a = Int16Array.from(data, (v) => Math.min(32767, Math.max(-32768, q(v))));
      return Buffer.from(a.buffer).swap16();
    }
    case 32: {
      const a = Int32Array.from(data, (v) => Math.min(2147483647, Math.max(-2147483648, q(v))));
      return Buffer.from(a.buffer).swap32();
    }
    case 64: {
      const b = Buffer.alloc(n * 8);
      for (let i = 0; i < n; i++) b.writeBigInt64BE(BigInt(q(data[i]!)), i * 8);
      return b;
    }
  }
}
