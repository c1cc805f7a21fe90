// Prints the calibration figures of the real DR12 field (sky, noise, PSF, zero point, depth per band)
// that src/astro/sim/calibration.ts holds, measured in the part of the frame away from M2.
// Usage: npx tsx bench/astro/calibrate.ts [frames root, default ../shared/data/sdss_dr12_frames]
import { fileURLToPath } from 'node:url';
import { CLEAN_REGION_2583_2_136, measureFrame, wholeFrame } from '../../src/astro/calibration.js';
import { frameRelPath, BANDS } from '../../src/astro/sdss-archive.js';
import { mustReadFrame } from '../../src/astro/sdss-frame.js';

const root = process.argv[2] ?? fileURLToPath(new URL('../../../shared/data/sdss_dr12_frames/', import.meta.url));
const id = { run: 2583, camcol: 2, field: 136 };
console.log('band  NMGY        ZP(1 count)  sky[counts]  sky[mag/"2]  noise[nMgy]  noise[counts]  PSF FWHM["]  stars  5sigma depth  | whole-frame noise[counts]');
for (const band of BANDS) {
  const f = await mustReadFrame(`${root}/${frameRelPath(band, id)}`);
  const m = measureFrame(f, CLEAN_REGION_2583_2_136);
  const whole = measureFrame(f, wholeFrame(f));
  console.log(`${band}     ${m.nmgy.toFixed(8)}  ${m.zeroPoint.toFixed(3)}       ${m.skyCounts.toFixed(1).padStart(7)}      ${m.skyMagPerArcsec2.toFixed(2)}        ${m.noiseNmgy.toFixed(5)}      ${m.noiseCounts.toFixed(2)}           ${m.psfFwhmArcsec.toFixed(2)}         ${String(m.psfStars).padStart(4)}   ${m.depth5sigma.toFixed(2)}         | ${whole.noiseCounts.toFixed(2)}`);
}
