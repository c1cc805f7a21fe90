// Readers for the cluster catalogues the pipeline uses, each into plain typed records:
// MCXC (X-ray M500; FITS ASCII table or the CSV copy), Planck PSZ2 (SZ MSZ = M500), redMaPPer SDSS
// DR8 (centres, photo-z, richness) and the ACT DR5 subset (positions; an approximate M500 only).
// Masses are M500 in 1e14 Msun for H0 = 70, Omega_m = 0.3, as the catalogues publish them.
import { formatCsvError, csvColumn, csvNumber, readCsvFile, type CsvTable } from './csv.js';
import { formatFitsError } from './fits-error.js';
import { readFitsFile } from './fits-file.js';
import { readTable, type Table } from './fits-table.js';
import { err, ok, type Result } from '../core/result.js';

export interface CatalogError {
  readonly file: string;
  readonly message: string;
}
export const formatCatalogError = (e: CatalogError) => `${e.file}: ${e.message}`;

export interface MassCluster {
  readonly name: string;
  readonly ra: number;
  readonly dec: number;
  /** NaN when the catalogue has no redshift. */
  readonly z: number;
  /** M500 in 1e14 Msun (h = 0.7); NaN when absent. */
  readonly m500: number;
}

export interface RedmapperCluster {
  readonly id: number;
  readonly name: string;
  readonly ra: number;
  readonly dec: number;
  /** Z_LAMBDA, NaN when the catalogue has none. */
  readonly z: number;
  readonly lambda: number;
}

const isCsv = (p: string) => /\.csv(\.gz)?$/i.test(p);

async function fitsTable(path: string, hdu = 1): Promise<Result<Table, CatalogError>> {
  const f = await readFitsFile(path);
  if (!f.ok) return err({ file: path, message: formatFitsError(f.error) });
  const h = f.value.hdus[hdu];
  if (!h) return err({ file: path, message: `no HDU ${hdu} (the catalogue table)` });
  const t = readTable(f.value, h);
  return t.ok ? t : err({ file: path, message: formatFitsError(t.error) });
}

async function csvTable(path: string): Promise<Result<CsvTable, CatalogError>> {
  const t = await readCsvFile(path);
  return t.ok ? t : err({ file: path, message: formatCsvError(t.error) });
}

function tableCols(t: Table, file: string, names: Record<string, string>): Result<Record<string, Float64Array | readonly string[]>, CatalogError> {
  const out: Record<string, Float64Array | readonly string[]> = {};
  for (const [key, name] of Object.entries(names)) {
    const c = t.columns.find((x) => x.name.toUpperCase() === name.toUpperCase());
    if (!c) return err({ file, message: `no column ${name}` });
    if (c.data.type === 'number' || c.data.type === 'string') out[key] = c.data.values;
    else return err({ file, message: `column ${name} is ${c.data.type}` });
  }
  return ok(out);
}

function csvCols(t: CsvTable, file: string, names: Record<string, string>): Result<Record<string, number>, CatalogError> {
  const out: Record<string, number> = {};
  for (const [key, name] of Object.entries(names)) {
    const i = csvColumn(t, name, file);
    if (!i.ok) return err({ file, message: formatCsvError(i.error) });
    out[key] = i.value;
  }
  return ok(out);
}

/** MCXC from `mcxc.fits` (ASCII TABLE, HDU 1) or `mcxc.csv(.gz)`. */
export async function readMcxc(path: string): Promise<Result<MassCluster[], CatalogError>> {
  if (isCsv(path)) {
    const t = await csvTable(path);
    if (!t.ok) return t;
    const c = csvCols(t.value, path, { name: 'MCXC', ra: 'RAdeg', dec: 'DEdeg', z: 'z', m: 'M500' });
    if (!c.ok) return c;
    const i = c.value;
    return ok(t.value.rows.map((r) => ({ name: r[i.name!]!, ra: csvNumber(r[i.ra!]), dec: csvNumber(r[i.dec!]), z: csvNumber(r[i.z!]), m500: csvNumber(r[i.m!]) })));
  }
  const t = await fitsTable(path);
  if (!t.ok) return t;
  const c = tableCols(t.value, path, { name: 'MCXC', ra: 'RAdeg', dec: 'DEdeg', z: 'z', m: 'M500' });
  if (!c.ok) return c;
  const { name, ra, dec, z, m } = c.value as { name: string[]; ra: Float64Array; dec: Float64Array; z: Float64Array; m: Float64Array };
  return ok(Array.from({ length: t.value.rows }, (_, k) => ({ name: name[k]!, ra: ra[k]!, dec: dec[k]!, z: z[k]!, m500: m[k]! })));
}

export interface Psz2Cluster extends MassCluster {
  /** The catalogue's own cross-identifications (blank when none). */
  readonly mcxc: string;
  readonly redmapper: string;
}

/** Planck PSZ2 union catalogue (BINTABLE, HDU 1). REDSHIFT = -1 and MSZ = 0 (no redshift) become NaN. */
export async function readPsz2(path: string): Promise<Result<Psz2Cluster[], CatalogError>> {
  const t = await fitsTable(path);
  if (!t.ok) return t;
  const c = tableCols(t.value, path, { name: 'NAME', ra: 'RA', dec: 'DEC', z: 'REDSHIFT', m: 'MSZ', mcxc: 'MCXC', rm: 'REDMAPPER' });
  if (!c.ok) return c;
  const v = c.value as { name: string[]; ra: Float64Array; dec: Float64Array; z: Float64Array; m: Float64Array; mcxc: string[]; rm: string[] };
  return ok(Array.from({ length: t.value.rows }, (_, k) => ({
    name: v.name[k]!, ra: v.ra[k]!, dec: v.dec[k]!,
    z: v.z[k]! > 0 ? v.z[k]! : NaN,
    m500: v.m[k]! > 0 ? v.m[k]! : NaN,
    mcxc: v.mcxc[k]!.trim(), redmapper: v.rm[k]!.trim(),
  })));
}

/**
 * redMaPPer SDSS DR8: the public FITS catalogue (columns ID or MEM_MATCH_ID, NAME, RA, DEC,
 * Z_LAMBDA, LAMBDA; .fits or .fits.gz) or the 7-column CSV subset (ID, name, RA, dec, redshift, lambda).
 */
export async function readRedmapper(path: string): Promise<Result<RedmapperCluster[], CatalogError>> {
  if (/\.fits(\.gz)?$/i.test(path)) {
    const t = await fitsTable(path);
    if (!t.ok) return t;
    const idName = t.value.columns.some((c) => c.name.toUpperCase() === 'ID') ? 'ID' : 'MEM_MATCH_ID';
    const c = tableCols(t.value, path, { id: idName, name: 'NAME', ra: 'RA', dec: 'DEC', z: 'Z_LAMBDA', l: 'LAMBDA' });
    if (!c.ok) return c;
    const v = c.value as { id: Float64Array; name: string[]; ra: Float64Array; dec: Float64Array; z: Float64Array; l: Float64Array };
    return ok(Array.from({ length: t.value.rows }, (_, k) => ({
      id: v.id[k]!, name: v.name[k]!.trim(), ra: v.ra[k]!, dec: v.dec[k]!, z: v.z[k]! > 0 ? v.z[k]! : NaN, lambda: v.l[k]!,
    })));
  }
  const t = await csvTable(path);
  if (!t.ok) return t;
  const c = csvCols(t.value, path, { id: 'ID', name: 'name', ra: 'RA', dec: 'dec', z: 'redshift', l: 'lambda' });
  if (!c.ok) return c;
  const i = c.value;
  return ok(t.value.rows.map((r) => ({ id: csvNumber(r[i.id!]), name: r[i.name!]!, ra: csvNumber(r[i.ra!]), dec: csvNumber(r[i.dec!]), z: csvNumber(r[i.z!]), lambda: csvNumber(r[i.l!]) })));
}

export interface ActCluster extends MassCluster {
  /** Angular R500 in degrees as the subset gives it. */
  readonly r500Deg: number;
}

// The ACT subset's r500 came from M500c through these approximations (data/README.md); inverting
// them recovers the un-calibrated M500c to ~0.1%. It is not a calibrated mass: off by default.
const actRhoC = (z: number) => 1.360e11 + 1.224e11 * z + 1.224e11 * z * z + 4.080e10 * z ** 3;
const actDa = (z: number) => (4272.3498 * z - 1093.437 * z * z + 126.0632 * z ** 3) / (1 + z);

/** ACT DR5 subset (name, RA, dec, redshift, r500 in deg); m500 is the inverted, un-calibrated M500c. */
export async function readAct(path: string): Promise<Result<ActCluster[], CatalogError>> {
  const t = await csvTable(path);
  if (!t.ok) return t;
  const c = csvCols(t.value, path, { name: 'name', ra: 'RA', dec: 'dec', z: 'redshift', r: 'r500' });
  if (!c.ok) return c;
  const i = c.value;
  return ok(t.value.rows.map((r) => {
    const z = csvNumber(r[i.z!]);
    const r500Deg = csvNumber(r[i.r!]);
    const rMpc = ((r500Deg * Math.PI) / 180) * actDa(z);
    const m = (rMpc ** (1 / 0.3333)) * (4 / 3) * Math.PI * 500 * actRhoC(z) / 1e14;
    return { name: r[i.name!]!, ra: csvNumber(r[i.ra!]), dec: csvNumber(r[i.dec!]), z, r500Deg, m500: m > 0 ? m : NaN };
  }));
}
