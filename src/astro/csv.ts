// Small CSV reading and writing for the catalogues (RFC 4180 quoting; `.gz` read transparently).
// The shipped catalogues are a few MB, so whole-file parsing is the simple, fast choice.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { err, ok, type Result } from '../core/result.js';

export interface CsvTable {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

export interface CsvError {
  readonly file: string;
  readonly line: number | null;
  readonly message: string;
}

export const formatCsvError = (e: CsvError) => `${e.file}${e.line !== null ? `:${e.line}` : ''}: ${e.message}`;

export function parseCsv(text: string, file: string): Result<CsvTable, CsvError> {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let fieldStartLine = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === '') { quoted = true; fieldStartLine = line; continue; }
    if (c === ',') { row.push(field); field = ''; continue; }
    if (c === '\r') continue;
    if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      line++;
      continue;
    }
    field += c;
  }
  if (quoted) return err({ file, line: fieldStartLine, message: 'unterminated quoted field' });
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  const header = rows.shift();
  if (!header) return err({ file, line: 1, message: 'empty file: no header line' });
  for (let r = 0; r < rows.length; r++) {
    if (rows[r]!.length !== header.length) {
      return err({ file, line: r + 2, message: `${rows[r]!.length} fields, the header has ${header.length}` });
    }
  }
  return ok({ header, rows });
}

/** A text file, gunzipped when it starts with the gzip magic bytes. */
export async function readTextFile(path: string): Promise<Result<string, CsvError>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    return err({ file: path, line: null, message: (e as Error).message });
  }
  try {
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  } catch (e) {
    return err({ file: path, line: null, message: `gzip stream is corrupt or truncated: ${(e as Error).message}` });
  }
  return ok(bytes.toString('utf8'));
}

export async function readCsvFile(path: string): Promise<Result<CsvTable, CsvError>> {
  const t = await readTextFile(path);
  return t.ok ? parseCsv(t.value, path) : t;
}

/** Column accessor: index by name, or an error naming the file and the missing column. */
export function csvColumn(t: CsvTable, name: string, file: string): Result<number, CsvError> {
  const i = t.header.indexOf(name);
  return i >= 0 ? ok(i) : err({ file, line: 1, message: `no column "${name}" (columns: ${t.header.join(', ')})` });
}

/** A number, with NA/empty/NaN as NaN. */
export function csvNumber(s: string | undefined): number {
  if (s === undefined) return NaN;
  const t = s.trim();
  if (t === '' || t === 'NA' || t.toLowerCase() === 'nan' || t.toLowerCase() === 'null') return NaN;
  const v = Number(t);
  return Number.isFinite(v) ? v : NaN;
}

function quoteField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function formatCsv(header: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  const cell = (v: string | number | null) => (v === null || (typeof v === 'number' && !Number.isFinite(v)) ? '' : quoteField(String(v)));
  return [header.map(quoteField).join(','), ...rows.map((r) => r.map(cell).join(','))].join('\n') + '\n';
}
