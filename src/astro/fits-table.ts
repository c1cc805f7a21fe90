// Table extensions: BINTABLE (FITS 4.0 section 7.3) and ASCII TABLE (section 7.2), read and write.
// Numeric columns decode to Float64Array with TSCAL/TZERO applied and TNULL as NaN; fixed-size
// arrays (`5E`, TDIM) are stored flat, `repeat` values per row. Variable-length arrays (P/Q) are
// reported as unsupported rather than decoded: none of the SDSS or catalogue files use them.
import { fitsError, type FitsError } from './fits-error.js';
import { getNumber, getString, type Card, type Header } from './fits-header.js';
import type { FitsFile, Hdu } from './fits-structure.js';
import type { Unit } from './fits-write.js';
import { err, ok, type Result } from '../core/result.js';

export type ColumnData =
  | { readonly type: 'number'; readonly values: Float64Array }
  | { readonly type: 'string'; readonly values: readonly string[] }
  | { readonly type: 'logical'; readonly values: readonly (boolean | null)[] }
  | { readonly type: 'bits'; readonly values: Uint8Array }
  /** Interleaved (re, im) pairs: 2 * repeat values per row. */
  | { readonly type: 'complex'; readonly values: Float64Array }
  | { readonly type: 'unsupported'; readonly reason: string };

export interface Column {
  readonly name: string;
  readonly tform: string;
  /** Values per row (characters for a string column). */
  readonly repeat: number;
  readonly unit: string | undefined;
  /** TDIM, NAXIS-style order (fastest first), when present. */
  readonly dim: readonly number[] | undefined;
  readonly data: ColumnData;
}

export interface Table {
  readonly rows: number;
  readonly columns: readonly Column[];
}

// ---- access helpers ----

export function findColumn(t: Table, name: string): Column | undefined {
  const u = name.toUpperCase();
  return t.columns.find((c) => c.name.toUpperCase() === u);
}

/** A numeric column as a flat Float64Array (rows * repeat), or an error naming what was wrong. */
export function numberColumn(t: Table, name: string, file = '(table)'): Result<{ values: Float64Array; repeat: number }, FitsError> {
  const c = findColumn(t, name);
  if (!c) return err(fitsError('missing', file, null, null, `no column ${name}`));
  if (c.data.type !== 'number') return err(fitsError('malformed', file, null, null, `column ${name} is ${c.data.type}, not numeric`));
  return ok({ values: c.data.values, repeat: c.repeat });
}

export function stringColumn(t: Table, name: string, file = '(table)'): Result<readonly string[], FitsError> {
  const c = findColumn(t, name);
  if (!c) return err(fitsError('missing', file, null, null, `no column ${name}`));
  if (c.data.type !== 'string') return err(fitsError('malformed', file, null, null, `column ${name} is ${c.data.type}, not a string column`));
  return ok(c.data.values);
}

// ---- BINTABLE ----

const BIN_SIZE: Record<string, number> = { L: 1, B: 1, I: 2, J: 4, K: 8, A: 1, E: 4, D: 8, C: 8, M: 16, P: 8, Q: 16 };

interface BinForm { repeat: number; code: string; width: number }

function parseBinForm(tform: string): BinForm | null {
  const m = /^\s*(\d*)([LXBIJKAEDCMPQ])/.exec(tform);
  if (!m) return null;
  const repeat = m[1] === '' ? 1 : Number(m[1]);
  const code = m[2]!;
  const width = code === 'X' ? Math.ceil(repeat / 8) : repeat * BIN_SIZE[code]!;
  return { repeat, code, width };
}

function parseDim(s: string | undefined): number[] | undefined {
  if (!s) return undefined;
  const m = /^\s*\(([\d\s,]+)\)\s*$/.exec(s);
  return m ? m[1]!.split(',').map((x) => Number(x.trim())) : undefined;
}

export function readTable(f: FitsFile, hdu: Hdu): Result<Table, FitsError> {
  if (hdu.kind === 'bintable') return readBinTable(f, hdu);
  if (hdu.kind === 'table') return readAsciiTable(f, hdu);
  return err(fitsError('malformed', f.file, hdu.headerStart, hdu.index, `HDU ${hdu.index} is a ${hdu.kind}, not a table`));
}

function readBinTable(f: FitsFile, hdu: Hdu): Result<Table, FitsError> {
  const h = hdu.header;
  const rowLen = getNumber(h, 'NAXIS1') ?? 0;
  const rows = getNumber(h, 'NAXIS2') ?? 0;
  const nf = getNumber(h, 'TFIELDS') ?? 0;
  const view = new DataView(f.bytes.buffer, f.bytes.byteOffset + hdu.dataStart, rowLen * rows);
  const columns: Column[] = [];
  let offset = 0;
  for (let k = 1; k <= nf; k++) {
    const tform = getString(h, `TFORM${k}`) ?? '';
    const form = parseBinForm(tform);
    if (!form) return err(fitsError('malformed', f.file, hdu.headerStart, hdu.index, `TFORM${k} = '${tform}' is not a binary table format`));
    const name = (getString(h, `TTYPE${k}`) ?? `COL${k}`).trim();
    const data = decodeBinColumn(view, h, k, form, rows, rowLen, offset);
    columns.push({ name, tform: tform.trim(), repeat: form.repeat, unit: getString(h, `TUNIT${k}`)?.trim(), dim: parseDim(getString(h, `TDIM${k}`)), data });
    offset += form.width;
  }
  if (offset !== rowLen) {
    return err(fitsError('malformed', f.file, hdu.headerStart, hdu.index, `columns add up to ${offset} bytes per row but NAXIS1 = ${rowLen}`));
  }
  return ok({ rows, columns });
}

function decodeBinColumn(view: DataView, h: Header, k: number, form: BinForm, rows: number, rowLen: number, offset: number): ColumnData {
  const { repeat, code } = form;
  if (code === 'P' || code === 'Q') return { type: 'unsupported', reason: 'variable-length array column' };
  if (code === 'A') {
    const values: string[] = [];
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    for (let r = 0; r < rows; r++) {
      const s = Buffer.from(bytes.buffer, bytes.byteOffset + r * rowLen + offset, repeat).toString('latin1');
      const nul = s.indexOf('\0');
      values.push((nul >= 0 ? s.slice(0, nul) : s).replace(/ +$/, ''));
    }
    return { type: 'string', values };
  }
  if (code === 'L') {
    const values: (boolean | null)[] = [];
    for (let r = 0; r < rows; r++) for (let i = 0; i < repeat; i++) {
      const b = view.getUint8(r * rowLen + offset + i);
      values.push(b === 0x54 ? true : b === 0x46 ? false : null);
    }
    return { type: 'logical', values };
  }
  if (code === 'X') {
    const values = new Uint8Array(rows * repeat);
    for (let r = 0; r < rows; r++) for (let i = 0; i < repeat; i++) {
      const byte = view.getUint8(r * rowLen + offset + (i >> 3));
      values[r * repeat + i] = (byte >> (7 - (i & 7))) & 1;
    }
    return { type: 'bits', values };
  }
  if (code === 'C' || code === 'M') {
    const values = new Float64Array(rows * repeat * 2);
    const sz = code === 'C' ? 4 : 8;
    for (let r = 0; r < rows; r++) for (let i = 0; i < repeat * 2; i++) {
      const at = r * rowLen + offset + i * sz;
      values[r * repeat * 2 + i] = sz === 4 ? view.getFloat32(at, false) : view.getFloat64(at, false);
    }
    return { type: 'complex', values };
  }
  const tscal = getNumber(h, `TSCAL${k}`) ?? 1;
  const tzero = getNumber(h, `TZERO${k}`) ?? 0;
  const tnull = getNumber(h, `TNULL${k}`);
  const values = new Float64Array(rows * repeat);
  const size = BIN_SIZE[code]!;
  for (let r = 0; r < rows; r++) {
    const base = r * rowLen + offset;
    for (let i = 0; i < repeat; i++) {
      const at = base + i * size;
      let v: number;
      switch (code) {
        case 'B': v = view.getUint8(at); break;
        case 'I': v = view.getInt16(at, false); break;
        case 'J': v = view.getInt32(at, false); break;
        case 'K': v = Number(view.getBigInt64(at, false)); break;
        case 'E': v = view.getFloat32(at, false); break;
        default: v = view.getFloat64(at, false); break;
      }
      values[r * repeat + i] = tnull !== undefined && v === tnull ? NaN : tzero + tscal * v;
    }
  }
  return { type: 'number', values };
}

export type BinColumnSpec =
  | { readonly name: string; readonly format: 'B' | 'I' | 'J' | 'K' | 'E' | 'D'; readonly repeat?: number; readonly unit?: string; readonly dim?: readonly number[]; readonly values: ArrayLike<number> }
  | { readonly name: string; readonly format: 'A'; readonly width: number; readonly unit?: string; readonly values: readonly string[] }
  | { readonly name: string; readonly format: 'L'; readonly repeat?: number; readonly unit?: string; readonly values: readonly (boolean | null)[] };

/** The mandatory cards that open a table extension, binary or ASCII. */
function tableCards(xtension: string, what: string, rowLen: number, rowUnit: string, rows: number, fields: number): Card[] {
  return [
    { key: 'XTENSION', value: xtension, comment: what },
    { key: 'BITPIX', value: 8 },
    { key: 'NAXIS', value: 2 },
    { key: 'NAXIS1', value: rowLen, comment: rowUnit },
    { key: 'NAXIS2', value: rows, comment: 'rows' },
    { key: 'PCOUNT', value: 0 },
    { key: 'GCOUNT', value: 1 },
    { key: 'TFIELDS', value: fields },
  ];
}

/** A BINTABLE extension with `rows` rows; numeric and logical values are flat (rows * repeat). */
export function binTableUnit(rows: number, columns: readonly BinColumnSpec[], extra: readonly Card[] = []): Unit {
  const widths = columns.map((c) => (c.format === 'A' ? c.width : (c.repeat ?? 1) * BIN_SIZE[c.format]!));
  const rowLen = widths.reduce((a, b) => a + b, 0);
  const cards = tableCards('BINTABLE', 'binary table extension', rowLen, 'bytes per row', rows, columns.length);
  columns.forEach((c, i) => {
    const k = i + 1;
    cards.push({ key: `TTYPE${k}`, value: c.name });
    cards.push({ key: `TFORM${k}`, value: c.format === 'A' ? `${c.width}A` : `${c.repeat ?? 1}${c.format}` });
    if (c.unit) cards.push({ key: `TUNIT${k}`, value: c.unit });
    if (c.format !== 'A' && c.format !== 'L' && c.dim) cards.push({ key: `TDIM${k}`, value: `(${c.dim.join(',')})` });
  });
  cards.push(...extra);
  const data = Buffer.alloc(rowLen * rows);
  let offset = 0;
  columns.forEach((c, i) => {
    const width = widths[i]!;
    const repeat = c.format === 'A' ? 1 : c.repeat ?? 1;
    const need = c.format === 'A' ? rows : rows * repeat;
    if (c.values.length !== need) throw new Error(`column ${c.name}: ${c.values.length} values, expected ${need}`);
    for (let r = 0; r < rows; r++) {
      const base = r * rowLen + offset;
      if (c.format === 'A') {
        const s = c.values[r]!;
        if (s.length > c.width) throw new Error(`column ${c.name} row ${r}: "${s}" is wider than ${c.width}`);
        data.write(s.padEnd(c.width, ' '), base, 'latin1');
        continue;
      }
      for (let j = 0; j < repeat; j++) {
        const v = c.values[r * repeat + j]!;
        if (c.format === 'L') {
          data[base + j] = v === true ? 0x54 : v === false ? 0x46 : 0;
          continue;
        }
        const at = base + j * BIN_SIZE[c.format]!;
        const x = v as number;
        switch (c.format) {
          case 'B': data.writeUInt8(x, at); break;
          case 'I': data.writeInt16BE(x, at); break;
          case 'J': data.writeInt32BE(x, at); break;
          case 'K': data.writeBigInt64BE(BigInt(x), at); break;
          case 'E': data.writeFloatBE(x, at); break;
          case 'D': data.writeDoubleBE(x, at); break;
        }
      }
    }
    offset += width;
  });
  return { cards, data };
}

// ---- ASCII TABLE ----

function readAsciiTable(f: FitsFile, hdu: Hdu): Result<Table, FitsError> {
  const h = hdu.header;
  const rowLen = getNumber(h, 'NAXIS1') ?? 0;
  const rows = getNumber(h, 'NAXIS2') ?? 0;
  const nf = getNumber(h, 'TFIELDS') ?? 0;
  const text = Buffer.from(f.bytes.buffer, f.bytes.byteOffset + hdu.dataStart, rowLen * rows).toString('latin1');
  const columns: Column[] = [];
  for (let k = 1; k <= nf; k++) {
    const tform = (getString(h, `TFORM${k}`) ?? '').trim();
    const tbcol = getNumber(h, `TBCOL${k}`);
    const m = /^([AIFED])(\d+)(?:\.(\d+))?$/.exec(tform);
    if (!m || tbcol === undefined) {
      return err(fitsError('malformed', f.file, hdu.headerStart, hdu.index, `column ${k}: TFORM '${tform}' / TBCOL ${String(tbcol)} are not a valid ASCII table column`));
    }
    const code = m[1]!;
    const width = Number(m[2]);
    const start = tbcol - 1;
    if (start + width > rowLen) {
      return err(fitsError('malformed', f.file, hdu.headerStart, hdu.index, `column ${k} (TBCOL ${tbcol}, width ${width}) runs past the ${rowLen}-byte row`));
    }
    const name = (getString(h, `TTYPE${k}`) ?? `COL${k}`).trim();
    const unit = getString(h, `TUNIT${k}`)?.trim();
    if (code === 'A') {
      const values: string[] = [];
      for (let r = 0; r < rows; r++) values.push(text.slice(r * rowLen + start, r * rowLen + start + width).replace(/ +$/, ''));
      columns.push({ name, tform, repeat: width, unit, dim: undefined, data: { type: 'string', values } });
      continue;
    }
    const tnull = getString(h, `TNULL${k}`)?.trim();
    const tscal = getNumber(h, `TSCAL${k}`) ?? 1;
    const tzero = getNumber(h, `TZERO${k}`) ?? 0;
    const values = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      const field = text.slice(r * rowLen + start, r * rowLen + start + width).trim();
      if (field === '' || (tnull !== undefined && field === tnull)) {
        values[r] = NaN;
        continue;
      }
      const v = Number(field.replace(/[dD]/, 'E'));
      if (Number.isNaN(v)) {
        return err(fitsError('malformed', f.file, hdu.dataStart + r * rowLen + start, hdu.index, `row ${r + 1}, column ${name}: "${field}" is not a number`));
      }
      values[r] = tzero + tscal * v;
    }
    columns.push({ name, tform, repeat: 1, unit, dim: undefined, data: { type: 'number', values } });
  }
  return ok({ rows, columns });
}

export type AsciiColumnSpec =
  | { readonly name: string; readonly format: 'A'; readonly width: number; readonly unit?: string; readonly values: readonly string[] }
  | { readonly name: string; readonly format: 'I'; readonly width: number; readonly unit?: string; readonly values: ArrayLike<number> }
  | { readonly name: string; readonly format: 'F' | 'E' | 'D'; readonly width: number; readonly decimals: number; readonly unit?: string; readonly values: ArrayLike<number> };

function formatAscii(c: AsciiColumnSpec, r: number): string {
  if (c.format === 'A') return (c.values[r] ?? '').padEnd(c.width, ' ');
  const v = c.values[r]!;
  // NaN is written as a blank field, which readers take as null.
  if (!Number.isFinite(v)) return ''.padStart(c.width, ' ');
  let s: string;
  if (c.format === 'I') s = String(Math.round(v));
  else if (c.format === 'F') s = v.toFixed(c.decimals);
  else {
    const [mant, exp] = v.toExponential(c.decimals).split('e') as [string, string];
    const e = Number(exp);
    s = `${mant}${c.format}${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (s.length > c.width) throw new Error(`column ${c.name} row ${r}: ${v} does not fit in ${c.format}${c.width}`);
  return s.padStart(c.width, ' ');
}

/** An ASCII TABLE extension; columns are separated by one blank. */
export function asciiTableUnit(rows: number, columns: readonly AsciiColumnSpec[], extra: readonly Card[] = []): Unit {
  const starts: number[] = [];
  let pos = 0;
  for (const c of columns) {
    starts.push(pos);
    pos += c.width + 1;
  }
  const rowLen = Math.max(0, pos - 1);
  const cards = tableCards('TABLE', 'ASCII table extension', rowLen, 'characters per row', rows, columns.length);
  columns.forEach((c, i) => {
    const k = i + 1;
    cards.push({ key: `TTYPE${k}`, value: c.name });
    cards.push({ key: `TBCOL${k}`, value: starts[i]! + 1 });
    cards.push({ key: `TFORM${k}`, value: c.format === 'A' || c.format === 'I' ? `${c.format}${c.width}` : `${c.format}${c.width}.${c.decimals}` });
    if (c.unit) cards.push({ key: `TUNIT${k}`, value: c.unit });
  });
  cards.push(...extra);
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) lines.push(columns.map((c) => formatAscii(c, r)).join(' '));
  return { cards, data: Buffer.from(lines.join(''), 'latin1'), padWithBlanks: true };
}
