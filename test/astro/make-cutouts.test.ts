import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import makeCutouts from '../../stages/make-cutouts.js';
import simSky from '../../stages/sim-sky.js';
import { bzip2ToFile } from '../../src/astro/bz2.js';
import { formatClusterCatalog, readClusterCatalog, type ClusterRow } from '../../src/astro/cluster-catalog.js';
import { readCutoutImage, readCutoutIndex } from '../../src/astro/cutout-dataset.js';
import { buildFits, imageUnit, type Card } from '../../src/astro/fits.js';
import { frameRelPath, BANDS } from '../../src/astro/sdss-archive.js';
import { mustReadFrame, type SdssFrame } from '../../src/astro/sdss-frame.js';
import { pixToSky, deproject } from '../../src/astro/wcs.js';
import { skyToOut } from '../../src/astro/cutout.js';
import { runStageInProcess } from '../../src/stage/testing.js';
import { frameFile, haveSharedData } from './shared-data.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'astro-cutouts-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

const row = (id: string, ra: number, dec: number, z = 0.3): ClusterRow => ({ id, ra, dec, z, logM500: 14.5, richness: 30, membersTrue: null, extra: {} });
const realField = { run: 2583, camcol: 2, field: 136 };

async function realSky(name: string, rows: ClusterRow[]): Promise<string> {
  const sky = join(dir, name);
  for (const b of BANDS) {
    const dest = join(sky, 'frames', frameRelPath(b, realField));
    await mkdir(join(dest, '..'), { recursive: true });
    await symlink(frameFile(b), dest);
  }
  await writeFile(join(sky, 'catalog.csv'), formatClusterCatalog(rows));
  return sky;
}

/** The brightest unsaturated, isolated star in the clean part of the r frame: its flux-weighted centre. */
function brightStar(f: SdssFrame): { x: number; y: number } {
  let best = { v: 0, x: 0, y: 0 };
  for (let y = 100; y < 1389; y++) for (let x = 1400; x < 1948; x++) {
    const v = f.image[y * f.width + x]!;
    if (v > best.v && v < 80) best = { v, x, y };
  }
  let s = 0, sx = 0, sy = 0;
  for (let dy = -3; dy <= 3; dy++) for (let dx = -3; dx <= 3; dx++) {
    const v = f.image[(best.y + dy) * f.width + best.x + dx]!;
    s += v; sx += v * dx; sy += v * dy;
  }
  return { x: best.x + sx / s, y: best.y + sy / s };
}

const argmax = (img: Float32Array, n: number, bands: number, b: number) => {
  let k = 0;
  for (let i = 0; i < n * n; i++) if (img[i * bands + b]! > img[k * bands + b]!) k = i;
  return { row: Math.floor(k / n), col: k % n };
};

describe.skipIf(!haveSharedData)('cutouts of the real field', async () => {
  const r = haveSharedData ? await mustReadFrame(frameFile('r')) : undefined!;
  const star = haveSharedData ? brightStar(r) : { x: 0, y: 0 };
  const at = haveSharedData ? pixToSky(r.wcs, star.x, star.y) : { ra: 0, dec: 0 };
  const arcsec = Math.PI / 180 / 3600;

  it('puts a bright star at the centre in every band, north up and east left, and conserves its flux', async () => {
    const south = deproject(at.ra, at.dec, 0, -20 * arcsec); // centre 20" south: the star is north of it
    const west = deproject(at.ra, at.dec, -20 * arcsec, 0); // centre 20" west: the star is east of it
    const sky = await realSky('real', [row('star', at.ra, at.dec), row('north', south.ra, south.dec), row('east', west.ra, west.dec)]);
    const rec = await runStageInProcess(makeCutouts, {
      projectDir: dir, deps: [sky], outs: ['out-real'],
      params: { cutout: { mode: 'angle', sizeArcmin: 1, size: 32 } },
    });
    expect(rec.metrics.find((m) => m.key === 'cutouts.count')?.value).toBe(3);
    const out = join(dir, 'out-real');
    const index = await readCutoutIndex(out);
    expect(index).toMatchObject({ format: 'massflow.cutouts/1', count: 3, size: 32, bands: ['u', 'g', 'r', 'i', 'z'], dtype: 'float32', layout: 'NHWC', file: 'cutouts.f32' });
    expect(index.clusters.map((c) => c.maskedFraction)).toEqual([0, 0, 0]);
    const img = await readCutoutImage(out, index, 0);
    // Output pixels are 1.875"; the star sits at the centre (15.5, 15.5) of a 32-pixel cutout.
    for (let b = 0; b < 5; b++) {
      const m = argmax(img, 32, 5, b);
      expect(Math.abs(m.row - 15.5)).toBeLessThanOrEqual(1);
      expect(Math.abs(m.col - 15.5)).toBeLessThanOrEqual(1);
    }
    const north = argmax(await readCutoutImage(out, index, 1), 32, 5, 2);
    expect(north.row).toBeGreaterThanOrEqual(4);
    expect(north.row).toBeLessThanOrEqual(6); // 15.5 - 20/1.875 = 4.8
    expect(Math.abs(north.col - 15.5)).toBeLessThanOrEqual(1);
    const east = argmax(await readCutoutImage(out, index, 2), 32, 5, 2);
    expect(east.col).toBeGreaterThanOrEqual(4);
    expect(east.col).toBeLessThanOrEqual(6);
    // Flux: undo the stretch (r softening 0.03, norm 10) over a 10 x 10 block of output pixels and
    // compare with the frame pixels whose centres fall in that block (the binning's own rule).
    const g = { ra: at.ra, dec: at.dec, sideDeg: 1 / 60, n: 32 };
    const perOut = new Float64Array(32 * 32);
    let frame = 0;
    for (let y = Math.floor(star.y - 40); y <= star.y + 40; y++) for (let x = Math.floor(star.x - 40); x <= star.x + 40; x++) {
      const s = pixToSky(r.wcs, x, y);
      const o = skyToOut(g, s.ra, s.dec)!;
      const col = Math.round(o.col);
      const rw = Math.round(o.row);
      if (col < 11 || col > 20 || rw < 11 || rw > 20) continue;
      frame += r.image[y * r.width + x]!;
      perOut[rw * 32 + col]! += 1;
    }
    let cut = 0;
    for (let rw = 11; rw <= 20; rw++) for (let col = 11; col <= 20; col++) cut += Math.sinh(img[(rw * 32 + col) * 5 + 2]! * 10) * 0.03 * perOut[rw * 32 + col]!;
    expect(cut / frame).toBeCloseTo(1, 4);
    expect(frame).toBeGreaterThan(100); // a bright star: > 100 nanomaggies (r < 17.5)
  }, 60_000);

  it('fills across a frame boundary from the neighbouring frame, or masks it', async () => {
    // Split the r frame at row 745 into two frames (fields 136 and 137 of a test archive).
    const sky = join(dir, 'split');
    const split = 745;
    const header = (rows: number, crpix2: number): Card[] => [
      ...r.header.cards.filter((c) => !['SIMPLE', 'BITPIX', 'NAXIS', 'NAXIS1', 'NAXIS2', 'EXTEND', 'CRPIX2', 'FRAME', 'BZERO', 'BSCALE'].includes(c.key)),
      { key: 'CRPIX2', value: crpix2, float: true },
    ];
    for (const [field, y0, y1] of [[136, 0, split], [137, split, 1489]] as const) {
      const img = r.image.slice(y0 * 2048, y1 * 2048);
      const bytes = buildFits([
        imageUnit({ bitpix: -32, shape: [2048, y1 - y0], data: img, cards: [...header(y1 - y0, 745 - y0), { key: 'FRAME', value: field }] }, true),
        imageUnit({ bitpix: -32, shape: [2048], data: r.calibvec }, false),
      ]);
      const dest = join(sky, 'frames', frameRelPath('r', { ...realField, field }));
      await mkdir(join(dest, '..'), { recursive: true });
      await bzip2ToFile(bytes, dest, 1);
    }
    const c = pixToSky(r.wcs, 1700, split - 0.5);
    await writeFile(join(sky, 'catalog.csv'), formatClusterCatalog([row('edge', c.ra, c.dec)]));
    const whole = await realSky('whole', [row('edge', c.ra, c.dec)]);
    const params = (edges: string) => ({ cutout: { mode: 'angle', sizeArcmin: 1, size: 32, bands: ['r'], edges, maxMaskedFraction: 1 } });
    await runStageInProcess(makeCutouts, { projectDir: dir, deps: [sky], outs: ['out-nb'], params: params('neighbours') });
    await runStageInProcess(makeCutouts, { projectDir: dir, deps: [sky], outs: ['out-mask'], params: params('mask') });
    await runStageInProcess(makeCutouts, { projectDir: dir, deps: [whole], outs: ['out-whole'], params: params('neighbours') });
    const nb = await readCutoutIndex(join(dir, 'out-nb'));
    const mask = await readCutoutIndex(join(dir, 'out-mask'));
    expect(nb.clusters[0]!.maskedFraction).toBe(0);
    expect(mask.clusters[0]!.maskedFraction).toBeGreaterThan(0.4);
    expect(mask.clusters[0]!.maskedFraction).toBeLessThan(0.6);
    const a = await readCutoutImage(join(dir, 'out-nb'), nb, 0);
    const w = await readCutoutImage(join(dir, 'out-whole'), await readCutoutIndex(join(dir, 'out-whole')), 0);
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(w[i]!, 5);
    const m = await readCutoutImage(join(dir, 'out-mask'), mask, 0);
    const zeros = Array.from(m).filter((v) => v === 0).length;
    expect(zeros / m.length).toBeCloseTo(mask.clusters[0]!.maskedFraction, 2);
  }, 60_000);

  it('drops a cluster no frame covers', async () => {
    const sky = await realSky('off', [row('on', at.ra, at.dec), row('off', at.ra + 5, at.dec)]);
    const rec = await runStageInProcess(makeCutouts, { projectDir: dir, deps: [sky], outs: ['out-off'], params: { cutout: { bands: ['r'] } } });
    expect(rec.metrics.find((m) => m.key === 'cutouts.dropped')?.value).toBe(1);
    expect((await readCutoutIndex(join(dir, 'out-off'))).clusters.map((c) => c.id)).toEqual(['on']);
  }, 60_000);
});

describe('cutouts of a simulated sky', () => {
  it('one physical-size cutout per cluster, labels and true member counts carried into the index', async () => {
    await runStageInProcess(simSky, { projectDir: dir, params: { sim: { clusters: 10, seed: 5, bands: ['g', 'i'], floorDraws: 2000 } }, outs: ['sim'] });
    const rec = await runStageInProcess(makeCutouts, { projectDir: dir, deps: [join(dir, 'sim')], outs: ['out-sim'], params: { cutout: { bands: ['i', 'g'] } } });
    const cat = await readClusterCatalog(join(dir, 'sim/catalog.csv'));
    if (!cat.ok) throw new Error(cat.error);
    const index = await readCutoutIndex(join(dir, 'out-sim'));
    expect(index.count).toBe(10);
    expect(index.bands).toEqual(['i', 'g']);
    expect(index.cutout).toMatchObject({ mode: 'physical', sizeMpc: 0.5, orientation: 'row 0 is north, column 0 is east' });
    index.clusters.forEach((c, i) => {
      expect(c).toMatchObject({ id: cat.value[i]!.id, logM500: cat.value[i]!.logM500, membersTrue: cat.value[i]!.membersTrue, maskedFraction: 0 });
    });
    const all = await readFile(join(dir, 'out-sim/cutouts.f32'));
    expect(all.length).toBe(10 * 64 * 64 * 2 * 4);
    const third = await readCutoutImage(join(dir, 'out-sim'), index, 3);
    expect(Array.from(third)).toEqual(Array.from(new Float32Array(all.buffer, all.byteOffset + 3 * 64 * 64 * 2 * 4, 64 * 64 * 2)));
    // The BCG sits at the centre: the central 2x2 i-band pixels outshine 95% of the image in
    // nearly every cutout (a bright star elsewhere can win against a faint z ~ 0.5 BCG).
    let centred = 0;
    for (let i = 0; i < 10; i++) {
      const img = await readCutoutImage(join(dir, 'out-sim'), index, i);
      const band0 = Array.from({ length: 64 * 64 }, (_, k) => img[k * 2]!);
      const centre = (band0[31 * 64 + 31]! + band0[31 * 64 + 32]! + band0[32 * 64 + 31]! + band0[32 * 64 + 32]!) / 4;
      const p95 = [...band0].sort((a, b) => a - b)[Math.floor(0.95 * band0.length)]!;
      if (centre > p95) centred++;
    }
    expect(centred).toBeGreaterThanOrEqual(9);
    expect(rec.metrics.find((m) => m.key === 'cutouts.per_second')!.value).toBeGreaterThan(0);
  }, 60_000);
});
