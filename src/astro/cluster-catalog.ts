// The cluster catalogue CSV shared by build-catalog, sim-sky, fetch-sdss and make-cutouts
// (docs/formats.md): required columns id,ra,dec,z,logM500,richness,members_true, in that order;
// empty cells are null (an unlabelled cluster has no logM500). Further columns are kept as text.
import { formatCsvError, csvNumber, formatCsv, parseCsv, readTextFile } from './csv.js';
import { err, ok, type Result } from '../core/result.js';

export const CATALOG_COLUMNS = ['id', 'ra', 'dec', 'z', 'logM500', 'richness', 'members_true'] as const;

export interface ClusterRow {
  readonly id: string;
  readonly ra: number;
  readonly dec: number;
  readonly z: number;
  /** log10(M500 / Msun), h = 0.7; null when unlabelled. */
  readonly logM500: number | null;
  /** redMaPPer-like richness lambda; null when unknown. */
  readonly richness: number | null;
  /** True member count (simulations only); null otherwise. */
  readonly membersTrue: number | null;
  /** Any further columns, by header name. */
  readonly extra: Readonly<Record<string, string>>;
}

const orNull = (s: string | undefined): number | null => {
  const v = csvNumber(s);
  return Number.isFinite(v) ? v : null;
};

export function parseClusterCatalog(text: string, file: string): Result<ClusterRow[], string> {
  const t = parseCsv(text, file);
  if (!t.ok) return err(formatCsvError(t.error));
  const idx = CATALOG_COLUMNS.map((c) => t.value.header.indexOf(c));
  const missing = CATALOG_COLUMNS.filter((_, i) => idx[i]! < 0);
  if (missing.length) return err(`${file}:1: missing column(s) ${missing.join(', ')} (need ${CATALOG_COLUMNS.join(',')})`);
  const extraCols = t.value.header.map((h, i) => [h, i] as const).filter(([h]) => !(CATALOG_COLUMNS as readonly string[]).includes(h));
  const rows: ClusterRow[] = [];
  const seen = new Set<string>();
  for (let r = 0; r < t.value.rows.length; r++) {
    const cells = t.value.rows[r]!;
    const [id, ra, dec, z, lm, rich, mem] = idx.map((i) => cells[i!]);
    const line = r + 2;
    if (!id) return err(`${file}:${line}: empty id`);
    if (seen.has(id)) return err(`${file}:${line}: duplicate id ${id}`);
    seen.add(id);
    const nra = csvNumber(ra);
    const ndec = csvNumber(dec);
    const nz = csvNumber(z);
    if (!Number.isFinite(nra) || !Number.isFinite(ndec) || Math.abs(ndec) > 90) return err(`${file}:${line}: cluster ${id} has no valid ra/dec`);
    if (!Number.isFinite(nz) || nz <= 0) return err(`${file}:${line}: cluster ${id} has no valid redshift (${z})`);
    const extra: Record<string, string> = {};
    for (const [h, i] of extraCols) extra[h] = cells[i] ?? '';
    rows.push({ id, ra: nra, dec: ndec, z: nz, logM500: orNull(lm), richness: orNull(rich), membersTrue: orNull(mem), extra });
  }
  return ok(rows);
}

export async function readClusterCatalog(path: string): Promise<Result<ClusterRow[], string>> {
  const t = await readTextFile(path);
  return t.ok ? parseClusterCatalog(t.value, path) : err(formatCsvError(t.error));
}

export function formatClusterCatalog(rows: readonly ClusterRow[], extraColumns: readonly string[] = []): string {
  const fix = (v: number | null, digits: number) => (v === null ? null : Number(v.toFixed(digits)));
  return formatCsv([...CATALOG_COLUMNS, ...extraColumns], rows.map((r) => [
    r.id, fix(r.ra, 7), fix(r.dec, 7), fix(r.z, 6), fix(r.logM500, 5), fix(r.richness, 3), r.membersTrue,
    ...extraColumns.map((c) => r.extra[c] ?? ''),
  ]));
}
