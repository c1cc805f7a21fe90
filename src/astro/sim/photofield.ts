// A photoField table for simulated fields, with the columns field lookup uses (RUN, RERUN, CAMCOL,
// FIELD, RA, DEC, RAMIN..DECMAX) and the per-band calibration columns (NMGYPERCOUNT, GAIN,
// PSF_WIDTH, SKY), so simulated and real fields are found and described the same way.
import { imageUnit } from '../fits-image.js';
import { binTableUnit } from '../fits-table.js';
import { buildFits } from '../fits-write.js';
import { BANDS, type FieldBox } from '../sdss-archive.js';
import { SDSS_CALIBRATION } from './calibration.js';

export function simPhotoFieldFits(boxes: readonly FieldBox[]): Buffer {
  const n = boxes.length;
  const perBand = (f: (b: (typeof BANDS)[number]) => number) => boxes.flatMap(() => BANDS.map(f));
  const cal = SDSS_CALIBRATION;
  return buildFits([
    imageUnit({ bitpix: 8, shape: [], data: [], cards: [{ key: 'ORIGIN', value: 'massflow sim-sky', comment: 'SIMULATED fields' }] }, true),
    binTableUnit(n, [
      { name: 'RUN', format: 'J', values: boxes.map((b) => b.run) },
      { name: 'RERUN', format: 'A', width: 3, values: boxes.map((b) => String(b.rerun ?? 301)) },
      { name: 'CAMCOL', format: 'J', values: boxes.map((b) => b.camcol) },
      { name: 'FIELD', format: 'J', values: boxes.map((b) => b.field) },
      { name: 'QUALITY', format: 'J', values: boxes.map(() => 3) },
      { name: 'RA', format: 'D', values: boxes.map((b) => b.ra) },
      { name: 'DEC', format: 'D', values: boxes.map((b) => b.dec) },
      { name: 'RAMIN', format: 'D', values: boxes.map((b) => b.ramin) },
      { name: 'RAMAX', format: 'D', values: boxes.map((b) => b.ramax) },
      { name: 'DECMIN', format: 'D', values: boxes.map((b) => b.decmin) },
      { name: 'DECMAX', format: 'D', values: boxes.map((b) => b.decmax) },
      { name: 'NMGYPERCOUNT', format: 'E', repeat: 5, values: perBand((b) => cal[b].nmgy) },
      { name: 'GAIN', format: 'E', repeat: 5, values: perBand((b) => cal[b].gain) },
      { name: 'PSF_WIDTH', format: 'E', repeat: 5, values: perBand((b) => cal[b].psfFwhmArcsec) },
      { name: 'SKY', format: 'E', repeat: 5, values: perBand((b) => (cal[b].skyCounts * cal[b].nmgy) / 0.396 ** 2) },
    ]),
  ]);
}
