import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readFitsFile } from '../../src/astro/fits.js';
import {
  DR12_FRAMES_URL, fieldsCovering, fieldsFromTable, frameRelPath, frameUrl, parseFrameName, parseSkyServerCsv,
  photoFieldRelPath, raDiff, skyServerFieldQuery, type FieldBox,
} from '../../src/astro/sdss-archive.js';
import { mustReadFrame } from '../../src/astro/sdss-frame.js';
import { pixToSky } from '../../src/astro/wcs.js';
import { FRAMES_ROOT, frameFile, haveSharedData, PHOTOFIELD } from './shared-data.js';

describe('DR12 archive names', () => {
  const id = { run: 2583, camcol: 2, field: 136 };
  it('builds frame paths and URLs with the run padded in the name but not in the directory', () => {
    expect(frameRelPath('r', id)).toBe('301/2583/2/frame-r-002583-2-0136.fits.bz2');
    expect(frameUrl(DR12_FRAMES_URL, 'g', id)).toBe('https://data.sdss.org/sas/dr12/boss/photoObj/frames/301/2583/2/frame-g-002583-2-0136.fits.bz2');
    expect(frameUrl('http://127.0.0.1:9/frames', 'u', { run: 94, camcol: 6, field: 7 })).toBe('http://127.0.0.1:9/frames/301/94/6/frame-u-000094-6-0007.fits.bz2');
    expect(photoFieldRelPath(2583, 2)).toBe('301/2583/photoField-002583-2.fits');
  });

  it('parses frame names back, and rejects others', () => {
    expect(parseFrameName('x/301/2583/2/frame-z-002583-2-0136.fits.bz2')).toEqual({ band: 'z', run: 2583, camcol: 2, field: 136 });
    expect(parseFrameName('frame-y-002583-2-0136.fits.bz2')).toBeNull();
    expect(parseFrameName('frame-r-2583-2-136.fits.bz2')).toBeNull();
  });

  it.skipIf(!haveSharedData)('the shared real files sit at exactly these archive paths', () => {
    for (const b of ['u', 'g', 'r', 'i', 'z'] as const) expect(existsSync(`${FRAMES_ROOT}${frameRelPath(b, id)}`)).toBe(true);
    expect(existsSync(`${FRAMES_ROOT}${photoFieldRelPath(2583, 2)}`)).toBe(true);
  });
});

describe('finding fields', () => {
  const box = (field: number, ramin: number, ramax: number): FieldBox => ({
    run: 1, camcol: 1, field, ramin, ramax, decmin: -0.1, decmax: 0.1, ra: ramin + raDiff(ramax, ramin) / 2, dec: 0,
  });
  it('handles boxes across RA 0/360 and margins', () => {
    const boxes = [box(1, 359.9, 0.05), box(2, 0.05, 0.2), box(3, 10, 10.1)];
    expect(fieldsCovering(boxes, 359.95, 0).map((b) => b.field)).toEqual([1]);
    expect(fieldsCovering(boxes, 0.06, 0, 0.02).map((b) => b.field)).toEqual([2, 1]);
    expect(fieldsCovering(boxes, 5, 0, 0.1)).toEqual([]);
    expect(fieldsCovering(boxes, 0.1, 0.15)).toEqual([]);
  });

  it('builds a bounded SkyServer query and parses its CSV answer', () => {
    const q = skyServerFieldQuery(323.34, -0.73, 0.1);
    expect(q).toContain('FROM Frame');
    expect(q).toContain('decMin <= -0.630000');
    const r = parseSkyServerCsv('#Table1\nrun,rerun,camcol,field,ra,dec,raMin,raMax,decMin,decMax\n2583,301,2,136,323.34,-0.73,323.26,323.42,-0.85,-0.62\n', 'q');
    expect(r.ok && r.value).toEqual([{ run: 2583, rerun: 301, camcol: 2, field: 136, ra: 323.34, dec: -0.73, ramin: 323.26, ramax: 323.42, decmin: -0.85, decmax: -0.62 }]);
    const bad = parseSkyServerCsv('run,camcol\n1,2\n', 'skyserver');
    expect(!bad.ok && bad.error.message).toMatch(/no field column/);
  });
});

describe.skipIf(!haveSharedData)('the real photoField of run 2583 camcol 2', async () => {
  // skipIf still runs this body to collect tests: without the data there is nothing to read.
  if (!haveSharedData) return;
  const pf = await readFitsFile(PHOTOFIELD);
  if (!pf.ok) throw new Error(pf.error.message);
  const boxes = fieldsFromTable(pf.value);
  if (!boxes.ok) throw new Error(boxes.error.message);

  it('lists 227 fields with their boxes; field 136 is the documented one', () => {
    expect(boxes.value).toHaveLength(227);
    const f136 = boxes.value.find((b) => b.field === 136)!;
    expect(f136.rerun).toBe(301);
    expect(f136.ramin).toBeCloseTo(323.2610, 3);
    expect(f136.ramax).toBeCloseTo(323.4247, 3);
    expect(f136.decmin).toBeCloseTo(-0.8467, 3);
    expect(f136.decmax).toBeCloseTo(-0.6214, 3);
  });

  it('finds field 136 for the frame centre, and two fields in the overlap between 136 and 137', async () => {
    expect(fieldsCovering(boxes.value, 323.3429, -0.7340)[0]?.field).toBe(136);
    const f136 = boxes.value.find((b) => b.field === 136)!;
    const f137 = boxes.value.find((b) => b.field === 137)!;
    const overlapRa = (Math.max(f136.ramin, f137.ramin) + Math.min(f136.ramax, f137.ramax)) / 2;
    expect(fieldsCovering(boxes.value, overlapRa, -0.734).map((b) => b.field).sort()).toEqual([136, 137]);
    // The box agrees with the frame's own WCS at the frame's corners (to a few arcsec).
    const frame = await mustReadFrame(frameFile('r'));
    const corners = [[0, 0], [2047, 0], [0, 1488], [2047, 1488]].map(([x, y]) => pixToSky(frame.wcs, x!, y!));
    const ras = corners.map((c) => c.ra);
    const decs = corners.map((c) => c.dec);
    expect(Math.min(...ras)).toBeCloseTo(f136.ramin, 2);
    expect(Math.max(...decs)).toBeCloseTo(f136.decmax, 2);
  });
});
