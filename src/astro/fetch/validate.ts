// Content checks for downloaded archive files, run before a file may enter the store.
import { bunzip2File } from '../bz2.js';
import { formatFitsError } from '../fits-error.js';
import { readFitsFile } from '../fits-file.js';
import { getNumber } from '../fits-header.js';
import { parseFits } from '../fits-structure.js';

/**
 * A corrected frame (.fits.bz2): the bzip2 stream is whole, the FITS structure is whole (every
 * HDU's data present, which is the frame's expected size), HDU0 is a 2-D float32 image and HDU1
 * the per-column calibration vector. Returns null when valid, else why not.
 */
export async function validateFrame(path: string, label: string): Promise<string | null> {
  const raw = await bunzip2File(path, label);
  if (!raw.ok) return formatFitsError(raw.error);
  const f = parseFits(raw.value, label);
  if (!f.ok) return formatFitsError(f.error);
  const h0 = f.value.hdus[0]!.header;
  const h1 = f.value.hdus[1];
  if (getNumber(h0, 'NAXIS') !== 2 || getNumber(h0, 'BITPIX') !== -32) return `${label}: HDU 0 is not a 2-D float32 image`;
  if (!h1 || getNumber(h1.header, 'NAXIS1') !== getNumber(h0, 'NAXIS1')) return `${label}: HDU 1 is not a calibration vector of NAXIS1 values`;
  return null;
}

/** A plain FITS table file (photoField): structurally whole, with a table in HDU 1. */
export async function validateFitsTable(path: string, label: string): Promise<string | null> {
  const f = await readFitsFile(path);
  if (!f.ok) return formatFitsError({ ...f.error, file: label });
  const h = f.value.hdus[1];
  if (!h || (h.kind !== 'bintable' && h.kind !== 'table')) return `${label}: HDU 1 is not a table`;
  return null;
}
