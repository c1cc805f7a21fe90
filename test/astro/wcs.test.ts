import { describe, expect, it } from 'vitest';
import { buildFits, imageUnit, parseFits, type Card } from '../../src/astro/fits.js';
import { countsAt, mustReadFrame, skyCounts } from '../../src/astro/sdss-frame.js';
import { pixelScaleArcsec, pixToSky, separationDeg, skyToPix, wcsCards, wcsFromHeader, type TanWcs } from '../../src/astro/wcs.js';
import { frameFile, haveSharedData } from './shared-data.js';

function headerOf(cards: Card[]) {
  const f = parseFits(buildFits([imageUnit({ bitpix: 8, shape: [], data: [], cards }, true)]), 'wcs.fits');
  if (!f.ok) throw new Error(f.error.message);
  return f.value.hdus[0]!.header;
}

function maxRoundTripError(w: TanWcs, width: number, height: number, step: number): number {
  let worst = 0;
  for (let y = 0; y <= height; y += step) for (let x = 0; x <= width; x += step) {
    const s = pixToSky(w, x, y);
    const p = skyToPix(w, s.ra, s.dec)!;
    worst = Math.max(worst, Math.hypot(p.x - x, p.y - y));
  }
  return worst;
}

describe('TAN WCS', () => {
  it('maps the reference pixel to CRVAL and is consistent with the pixel scale', () => {
    const w: TanWcs = { crpix: [100, 50], crval: [150, 2], cd: [[-0.396 / 3600, 0], [0, 0.396 / 3600]], sip: undefined };
    const s = pixToSky(w, 100, 50);
    expect(s.ra).toBeCloseTo(150, 12);
    expect(s.dec).toBeCloseTo(2, 12);
    // 1000 px east-west at 0.396"/px is 396" on the sky (gnomonic: tan, not linear, but close here).
    const a = pixToSky(w, 100 - 500, 50);
    const b = pixToSky(w, 100 + 500, 50);
    expect(separationDeg(a.ra, a.dec, b.ra, b.dec) * 3600).toBeCloseTo(396, 1);
    expect(a.ra).toBeGreaterThan(b.ra); // CD1_1 < 0: RA grows to the left (east)
    expect(pixelScaleArcsec(w)).toBeCloseTo(0.396, 9);
  });

  it('handles RA wrap-around at 0/360', () => {
    const w: TanWcs = { crpix: [0, 0], crval: [359.99, 0], cd: [[-1e-4, 0], [0, 1e-4]], sip: undefined };
    const s = pixToSky(w, -500, 0);
    expect(s.ra).toBeGreaterThan(0);
    expect(s.ra).toBeLessThan(0.1);
    const p = skyToPix(w, s.ra, s.dec)!;
    expect(p.x).toBeCloseTo(-500, 6);
  });

  it('reads CDELT/CROTA2 headers and round-trips near the pole', () => {
    const h = headerOf([
      { key: 'CTYPE1', value: 'RA---TAN' }, { key: 'CTYPE2', value: 'DEC--TAN' },
      { key: 'CRPIX1', value: 512.5 }, { key: 'CRPIX2', value: 512.5 },
      { key: 'CRVAL1', value: 10 }, { key: 'CRVAL2', value: 89.5 },
      { key: 'CDELT1', value: -2e-4 }, { key: 'CDELT2', value: 2e-4 }, { key: 'CROTA2', value: 30 },
    ]);
    const w = wcsFromHeader(h, 'wcs.fits');
    if (!w.ok) throw new Error(w.error.message);
    expect(w.value.crpix).toEqual([511.5, 511.5]);
    expect(maxRoundTripError(w.value, 1024, 1024, 64)).toBeLessThan(1e-6);
  });

  it('applies SIP distortion forward and inverts it to < 1e-6 px', () => {
    const h = headerOf([
      { key: 'CTYPE1', value: 'RA---TAN-SIP' }, { key: 'CTYPE2', value: 'DEC--TAN-SIP' },
      { key: 'CRPIX1', value: 1024 }, { key: 'CRPIX2', value: 1024 },
      { key: 'CRVAL1', value: 200 }, { key: 'CRVAL2', value: 30 },
      { key: 'CD1_1', value: -1.1e-4 }, { key: 'CD1_2', value: 1e-6 }, { key: 'CD2_1', value: -1e-6 }, { key: 'CD2_2', value: 1.1e-4 },
      { key: 'A_ORDER', value: 2 }, { key: 'A_2_0', value: 2e-6 }, { key: 'A_0_2', value: -1e-6 }, { key: 'A_1_1', value: 3e-6 },
      { key: 'B_ORDER', value: 2 }, { key: 'B_2_0', value: -1e-6 }, { key: 'B_0_2', value: 2e-6 }, { key: 'B_1_1', value: 1e-6 },
    ]);
    const w = wcsFromHeader(h, 'sip.fits');
    if (!w.ok) throw new Error(w.error.message);
    const plain = { ...w.value, sip: undefined };
    // 1000 px from the centre the distortion is several pixels: SIP is really applied.
    const d = pixToSky(w.value, 2023, 2023);
    const p = skyToPix(plain, d.ra, d.dec)!;
    expect(Math.hypot(p.x - 2023, p.y - 2023)).toBeGreaterThan(3);
    expect(maxRoundTripError(w.value, 2048, 2048, 128)).toBeLessThan(1e-6);
  });

  it('rejects projections it does not implement, naming the file', () => {
    const h = headerOf([{ key: 'CTYPE1', value: 'RA---SIN' }, { key: 'CTYPE2', value: 'DEC--SIN' }]);
    const w = wcsFromHeader(h, 'sin.fits');
    expect(!w.ok && w.error.kind).toBe('unsupported');
    expect(!w.ok && w.error.file).toBe('sin.fits');
  });

  it('writes cards that read back to the same WCS', () => {
    const w: TanWcs = { crpix: [1024, 744], crval: [323.342792226, -0.733974791856], cd: [[2.71e-9, 1.0999e-4], [1.1e-4, 1.18e-9]], sip: undefined };
    const back = wcsFromHeader(headerOf(wcsCards(w)), 'x.fits');
    expect(back.ok && back.value).toEqual(w);
  });
});

describe.skipIf(!haveSharedData)('the real r frame 2583-2-136', async () => {
  const frame = haveSharedData ? await mustReadFrame(frameFile('r')) : undefined!;

  it('reference pixel maps to RA 323.342792, Dec -0.733975', () => {
    expect(frame.wcs.crpix).toEqual([1024, 744]); // CRPIX 1025, 745 in FITS's 1-based pixels
    const s = pixToSky(frame.wcs, 1024, 744);
    expect(s.ra).toBeCloseTo(323.342792, 6);
    expect(s.dec).toBeCloseTo(-0.733975, 6);
  });

  it('round trips pixel -> sky -> pixel to < 1e-3 px across the frame', () => {
    expect(maxRoundTripError(frame.wcs, frame.width - 1, frame.height - 1, 32)).toBeLessThan(1e-3);
  });

  it('has the SDSS geometry: 0.396"/px, rows run along RA (the scan direction)', () => {
    expect(pixelScaleArcsec(frame.wcs)).toBeCloseTo(0.396, 3);
    const a = pixToSky(frame.wcs, 1024, 0);
    const b = pixToSky(frame.wcs, 1024, 1488);
    expect(Math.abs(b.ra - a.ra)).toBeGreaterThan(0.16); // 1488 px * 0.396" = 0.1637 deg
    expect(Math.abs(b.dec - a.dec)).toBeLessThan(1e-4);
  });

  it('calibration vector: 2048 nanomaggies-per-count factors, smooth, near NMGY', () => {
    const cv = frame.calibvec;
    expect(cv).toHaveLength(2048);
    expect(frame.nmgy).toBe(0.00546689);
    let mean = 0;
    let maxStep = 0;
    for (let i = 0; i < cv.length; i++) {
      mean += cv[i]! / cv.length;
      if (i) maxStep = Math.max(maxStep, Math.abs(cv[i]! / cv[i - 1]! - 1));
    }
    expect(mean / frame.nmgy).toBeGreaterThan(0.95);
    expect(mean / frame.nmgy).toBeLessThan(1.05);
    expect(maxStep).toBeLessThan(0.01); // a flat field: no column jumps by 1%
  });

  it('undoing the calibration gives raw counts: sky pixels sit at the sky level with Poisson-scale scatter', () => {
    const sky = skyCounts(frame, 1000, 700);
    expect(sky).toBeGreaterThan(100);
    expect(sky).toBeLessThan(200);
    const vals: number[] = [];
    for (let y = 600; y < 800; y++) for (let x = 900; x < 1100; x++) vals.push(countsAt(frame, x, y));
    vals.sort((a, b) => a - b);
    const median = vals[vals.length >> 1]!;
    const lowSigma = median - vals[Math.floor(0.1587 * vals.length)]!;
    expect(Math.abs(median - sky)).toBeLessThan(3 * lowSigma);
    // r-band gain 4.6 e-/count (photoField): sqrt(149 / 4.6) = 5.7 counts; measured spread is 1-2x that.
    expect(lowSigma).toBeGreaterThan(5);
    expect(lowSigma).toBeLessThan(12);
  });
});
