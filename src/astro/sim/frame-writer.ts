// Writes a simulated frame in the DR12 corrected-frame layout: HDU0 float32 image in nanomaggies
// with the SDSS header keys (RUN, CAMCOL, FRAME, FILTER, NMGY, TAN/CD WCS, ...), HDU1 the
// calibration vector, HDU2 the sky grid BINTABLE (ALLSKY 256x192, XINTERP, YINTERP), HDU3 the
// astrometric trace table. ORIGIN says the frame is simulated, so it can never pass for a real one.
import type { Card } from '../fits-header.js';
import { imageUnit } from '../fits-image.js';
import { binTableUnit } from '../fits-table.js';
import { buildFitsParts } from '../fits-write.js';
import type { FieldId } from '../sdss-archive.js';
import type { SdssFrame } from '../sdss-frame.js';
import { wcsCards } from '../wcs.js';

export const SKY_GRID_W = 256;
export const SKY_GRID_H = 192;

/** A simulated frame: the calibrated fields a real frame has, plus what it was drawn from. */
export interface SimFrame extends Pick<SdssFrame, 'band' | 'width' | 'height' | 'image' | 'wcs' | 'nmgy' | 'calibvec'> {
  readonly field: FieldId;
  readonly skyCounts: number;
  readonly exptime: number;
  readonly seed: number;
  readonly mjd: number;
}

/**
 * Rounds float32 values to 10 significant binary digits in place (the implicit bit and 9 stored
 * mantissa bits), as the archive's lossy FLOATCOMPRESS does (<= 0.1% per pixel): the real frames'
 * pixels all end in >= 14 zero mantissa bits. Besides matching them, it makes bzip2's job easier.
 */
export function quantizeMantissa(a: Float32Array): void {
  const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < u.length; i++) {
    const v = u[i]!;
    if ((v & 0x7f800000) === 0x7f800000) continue; // inf/NaN untouched
    u[i] = ((v + 0x2000) & 0xffffc000) >>> 0;
  }
}

/** The frame's FITS bytes, as pieces to stream into the compressor. */
export function simFrameFits(f: SimFrame): Uint8Array[] {
  const cards: Card[] = [
    { key: 'BZERO', value: 0, float: true, comment: 'Set by MRD_SCALE' },
    { key: 'BSCALE', value: 1, float: true, comment: 'Set by MRD_SCALE' },
    { key: 'ORIGIN', value: 'massflow sim-sky', comment: 'SIMULATED frame, not SDSS data' },
    { key: 'TELESCOP', value: '2.5m' },
    { key: 'RUN', value: f.field.run, comment: 'Run number' },
    { key: 'FRAME', value: f.field.field, comment: 'Frame sequence number within the run' },
    { key: 'STRIPE', value: 82, comment: 'Stripe index number' },
    { key: 'FLAVOR', value: 'science', comment: 'Flavor of this run' },
    { key: 'EXPTIME', value: String(f.exptime), comment: 'Exposure time (seconds)' },
    { key: 'CCDMODE', value: 'DRIFT', comment: "'STARING' or 'DRIFT'" },
    { key: 'EQUINOX', value: 2000, float: true },
    { key: 'SOFTBIAS', value: 1000, comment: 'software "bias" added to all DN' },
    { key: 'BUNIT', value: 'nanomaggy', comment: '1 nanomaggy = 3.631e-6 Jy' },
    { key: 'FILTER', value: f.band, comment: 'filter used' },
    { key: 'CAMCOL', value: f.field.camcol, comment: 'column in the imaging camera' },
    { key: 'RADECSYS', value: 'ICRS', comment: 'International Celestial Ref. System' },
    ...wcsCards(f.wcs),
    { key: 'NMGY', value: f.nmgy, float: true, comment: 'Calibration factor [nMgy per count]' },
    { key: 'NMGYIVAR', value: 1e6, float: true, comment: 'Calibration factor inverse variance' },
    { key: 'RERUN', value: String(f.field.rerun ?? 301), comment: 'rerun' },
    { key: 'SIMSEED', value: f.seed, comment: 'sim-sky seed of this frame' },
  ];
  // Sky grid: constant sky in counts; XINTERP/YINTERP map pixels onto the grid (8 px per cell).
  const allsky = new Float32Array(SKY_GRID_W * SKY_GRID_H).fill(f.skyCounts);
  const xinterp = Float32Array.from({ length: f.width }, (_, x) => (x + 0.5) / 8 - 0.5);
  const yinterp = Float32Array.from({ length: f.height }, (_, y) => (y + 0.5) / 8 - 0.5);
  // Trace table: the linear astrometry in SDSS's (a..f) form, great-circle node/inclination of the equator.
  const d = (v: number) => [v];
  const trace = binTableUnit(1, [
    { name: 'RUN', format: 'J', values: [f.field.run] },
    { name: 'RERUN', format: 'A', width: 3, values: [String(f.field.rerun ?? 301)] },
    { name: 'CAMCOL', format: 'J', values: [f.field.camcol] },
    { name: 'FILTER', format: 'A', width: 1, values: [f.band] },
    { name: 'NODE', format: 'D', values: d(95) },
    { name: 'INCL', format: 'D', values: d(0) },
    { name: 'NAXIS', format: 'J', repeat: 2, values: [f.width, f.height] },
    { name: 'FIELD', format: 'J', values: [f.field.field] },
    { name: 'A', format: 'D', values: d(f.wcs.crval[0] - 95) },
    { name: 'B', format: 'D', values: d(f.wcs.cd[0][1]) },
    { name: 'C', format: 'D', values: d(f.wcs.cd[0][0]) },
    { name: 'D', format: 'D', values: d(f.wcs.crval[1]) },
    { name: 'E', format: 'D', values: d(f.wcs.cd[1][1]) },
    { name: 'F', format: 'D', values: d(f.wcs.cd[1][0]) },
    ...['DROW0', 'DROW1', 'DROW2', 'DROW3', 'DCOL0', 'DCOL1', 'DCOL2', 'DCOL3', 'CSROW', 'CSCOL', 'CCROW', 'CCCOL', 'RICUT'].map((name) => ({ name, format: 'D' as const, values: d(0) })),
    { name: 'MJD', format: 'D', values: d(f.mjd) },
    { name: 'AIRMASS', format: 'D', values: d(1.2) },
    { name: 'MUERR', format: 'E', values: d(0.03) },
    { name: 'NUERR', format: 'E', values: d(0.03) },
  ]);
  return buildFitsParts([
    imageUnit({ bitpix: -32, shape: [f.width, f.height], data: f.image, cards }, true),
    imageUnit({ bitpix: -32, shape: [f.width], data: f.calibvec }, false),
    binTableUnit(1, [
      { name: 'ALLSKY', format: 'E', repeat: SKY_GRID_W * SKY_GRID_H, dim: [SKY_GRID_W, SKY_GRID_H], values: allsky },
      { name: 'XINTERP', format: 'E', repeat: f.width, values: xinterp },
      { name: 'YINTERP', format: 'E', repeat: f.height, values: yinterp },
    ]),
    trace,
  ]);
}
