import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import simSky from '../../stages/sim-sky.js';
import { measureFrame, wholeFrame } from '../../src/astro/calibration.js';
import { readClusterCatalog, type ClusterRow } from '../../src/astro/cluster-catalog.js';
import { readFitsFile } from '../../src/astro/fits.js';
import { fieldsCovering, fieldsFromTable, frameRelPath, photoFieldRelPath } from '../../src/astro/sdss-archive.js';
import { mustReadFrame, type SdssFrame } from '../../src/astro/sdss-frame.js';
import { SDSS_CALIBRATION } from '../../src/astro/sim/calibration.js';
import { computeFloor, posteriorMedians, richnessBaseline } from '../../src/astro/sim/floor.js';
import { packCells } from '../../src/astro/sim/layout.js';
import { DEFAULT_MODEL, mStarI, nanomaggies, sampleLogMass, sampleMembers } from '../../src/astro/sim/model.js';
import { Rng } from '../../src/astro/sim/rng.js';
import { skyToPix } from '../../src/astro/wcs.js';
import { runStageInProcess } from '../../src/stage/testing.js';

const sim = { clusters: 24, seed: 11, bands: ['u', 'r', 'i'], floorDraws: 20000 };
let dir: string;
let catalog: ClusterRow[];
let metrics: { key: string; value: number }[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'astro-sim-'));
  const rec = await runStageInProcess(simSky, { projectDir: dir, params: { sim }, outs: ['data/sky'] });
  metrics = rec.metrics;
  const c = await readClusterCatalog(join(dir, 'data/sky/catalog.csv'));
  if (!c.ok) throw new Error(c.error);
  catalog = c.value;
}, 120_000);
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

function spearman(a: number[], b: number[]): number {
  const rank = (v: number[]) => { const r = new Array<number>(v.length); v.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]).forEach(([, i], k) => { r[i] = k; }); return r; };
  const ra = rank(a);
  const rb = rank(b);
  const n = a.length;
  return 1 - (6 * ra.reduce((s, x, i) => s + (x - rb[i]!) ** 2, 0)) / (n * (n * n - 1));
}

const fieldOf = (c: ClusterRow) => ({ run: Number(c.extra.run), camcol: Number(c.extra.camcol), field: Number(c.extra.field) });
const frames = new Map<string, SdssFrame>();
async function frameFor(c: ClusterRow, band: 'u' | 'r' | 'i'): Promise<SdssFrame> {
  const path = join(dir, 'data/sky/frames', frameRelPath(band, fieldOf(c)));
  if (!frames.has(path)) frames.set(path, await mustReadFrame(path));
  return frames.get(path)!;
}

describe('sim-sky output', () => {
  it('writes frames in the DR12 layout and naming, one per field and band', async () => {
    const fields = metrics.find((m) => m.key === 'sim.fields')!.value;
    expect(metrics.find((m) => m.key === 'sim.frames')!.value).toBe(fields * 3);
    for (const c of catalog) for (const b of ['u', 'r', 'i'] as const) {
      expect(existsSync(join(dir, 'data/sky/frames', frameRelPath(b, fieldOf(c))))).toBe(true);
    }
    expect(await readdir(join(dir, 'data/sky/frames/301/9901'))).not.toContain('frame-g');
    const f = await frameFor(catalog[0]!, 'r');
    expect([f.width, f.height]).toEqual([2048, 1489]);
    expect(f.band).toBe('r');
    expect([f.run, f.camcol, f.field]).toEqual([9901, fieldOf(catalog[0]!).camcol, fieldOf(catalog[0]!).field]);
    expect(f.nmgy).toBe(SDSS_CALIBRATION.r.nmgy);
    expect(f.calibvec).toHaveLength(2048);
    expect(f.sky?.grid).toHaveLength(256 * 192);
    const raw = await readFitsFile(join(dir, 'data/sky/frames', frameRelPath('r', fieldOf(catalog[0]!))));
    expect(raw.ok && raw.value.hdus.map((h) => h.kind)).toEqual(['primary', 'image', 'bintable', 'bintable']);
  });

  it('writes the truth catalogue: WCS places each cluster at its recorded pixel, in the photoField box', async () => {
    expect(catalog).toHaveLength(24);
    expect(catalog[0]!.id).toBe('sim-0001');
    const pf = await readFitsFile(join(dir, 'data/sky/photoObj', photoFieldRelPath(9901, fieldOf(catalog[0]!).camcol)));
    if (!pf.ok) throw new Error(pf.error.message);
    const boxes = fieldsFromTable(pf.value);
    if (!boxes.ok) throw new Error(boxes.error.message);
    for (const c of catalog) {
      expect(c.logM500).toBeGreaterThanOrEqual(13.9);
      expect(c.logM500).toBeLessThanOrEqual(15.3);
      expect(c.z).toBeGreaterThanOrEqual(0.1);
      expect(c.z).toBeLessThanOrEqual(0.5);
      expect(c.membersTrue).toBeGreaterThanOrEqual(1);
      expect(Number(c.extra.members_in_cell)).toBeLessThanOrEqual(c.membersTrue!);
      const f = await frameFor(c, 'r');
      const p = skyToPix(f.wcs, c.ra, c.dec)!;
      expect(p.x).toBeCloseTo(Number(c.extra.x), 3);
      expect(p.y).toBeCloseTo(Number(c.extra.y), 3);
      if (c.extra.camcol === catalog[0]!.extra.camcol) expect(fieldsCovering(boxes.value, c.ra, c.dec)[0]?.field).toBe(fieldOf(c).field);
    }
  });

  it('is calibrated: measuring a simulated frame gives back the noise, PSF and sky it was made with', async () => {
    for (const band of ['u', 'r', 'i'] as const) {
      const f = await frameFor(catalog[0]!, band);
      const m = measureFrame(f, wholeFrame(f));
      const cal = SDSS_CALIBRATION[band];
      expect(m.noiseNmgy / cal.noiseNmgy).toBeGreaterThan(0.97);
      expect(m.noiseNmgy / cal.noiseNmgy).toBeLessThan(1.1); // faint sources add a little
      expect(m.psfFwhmArcsec / cal.psfFwhmArcsec).toBeGreaterThan(0.9);
      expect(m.psfFwhmArcsec / cal.psfFwhmArcsec).toBeLessThan(1.1);
      expect(m.skyCounts).toBeCloseTo(cal.skyCounts, 3);
    }
  });

  it('carries the mass signal: member light in the cell tracks the true member count and the mass', async () => {
    // Without field galaxies and stars, all light in a cell is the cluster's: in units of an L*
    // galaxy's flux at the cluster's redshift, it is the members' total luminosity.
    const bare = await mkdtemp(join(tmpdir(), 'astro-sim-bare-'));
    try {
      await runStageInProcess(simSky, { projectDir: bare, params: { sim: { ...sim, bands: ['i'], galaxyDensity: 0, starDensity: 0 } }, outs: ['data/sky'] });
      const cat = await readClusterCatalog(join(bare, 'data/sky/catalog.csv'));
      if (!cat.ok) throw new Error(cat.error);
      const lum: number[] = [];
      const cache = new Map<string, SdssFrame>();
      for (const c of cat.value) {
        const path = join(bare, 'data/sky/frames', frameRelPath('i', fieldOf(c)));
        if (!cache.has(path)) cache.set(path, await mustReadFrame(path));
        const f = cache.get(path)!;
        const half = Number(c.extra.cell_px) / 2;
        const x = Number(c.extra.x);
        const y = Number(c.extra.y);
        let s = 0;
        for (let yy = Math.ceil(y - half); yy <= y + half; yy++) for (let xx = Math.ceil(x - half); xx <= x + half; xx++) s += f.image[yy * f.width + xx]!;
        lum.push(s / nanomaggies(mStarI(c.z)));
      }
      const n = cat.value.map((c) => Number(c.extra.members_in_cell));
      expect(spearman(lum, n)).toBeGreaterThan(0.8);
      expect(spearman(lum, cat.value.map((c) => c.logM500!))).toBeGreaterThan(0.5);
      // Total L/L* per visible member: the luminosity function's mean above 0.2 L* (~0.6) plus the BCG.
      const perMember = lum.reduce((a, l, i) => a + l / n[i]!, 0) / lum.length;
      expect(perMember).toBeGreaterThan(0.5);
      expect(perMember).toBeLessThan(1.5);
    } finally {
      await rm(bare, { recursive: true, force: true });
    }
  }, 60_000);

  it('reports the scatter floor, below the richness baseline, with the in-cutout floor above it', async () => {
    const floor = JSON.parse(await readFile(join(dir, 'data/sky/floor.json'), 'utf8'));
    expect(floor.maeFloorDex).toBeGreaterThan(0.03);
    expect(floor.maeFloorDex).toBeLessThan(0.2);
    expect(floor.maeFloorInCutoutDex).toBeGreaterThan(floor.maeFloorPopulationDex);
    expect(floor.meanFractionInCutout).toBeGreaterThan(0.2);
    expect(floor.meanFractionInCutout).toBeLessThan(0.8);
    expect(metrics.find((m) => m.key === 'sim.mae_floor_dex')?.value).toBe(floor.maeFloorDex);
  });

  it('is reproducible: the same seed gives byte-identical frames', async () => {
    const again = await mkdtemp(join(tmpdir(), 'astro-sim2-'));
    try {
      await runStageInProcess(simSky, { projectDir: again, params: { sim: { ...sim, clusters: 3, bands: ['g'] } }, outs: ['data/sky'] });
      await runStageInProcess(simSky, { projectDir: again, params: { sim: { ...sim, clusters: 3, bands: ['g'] } }, outs: ['data/sky2'] });
      const hash = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex');
      const rel = 'frames/301/9901/1/frame-g-009901-1-0011.fits.bz2';
      expect(await hash(join(again, 'data/sky', rel))).toBe(await hash(join(again, 'data/sky2', rel)));
      expect(await readFile(join(again, 'data/sky/catalog.csv'), 'utf8')).toBe(await readFile(join(again, 'data/sky2/catalog.csv'), 'utf8'));
    } finally {
      await rm(again, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('sim pieces', () => {
  it('packs cells without overlap and inside the frame', () => {
    const rng = new Rng(3);
    const sides = Array.from({ length: 200 }, () => 100 + 500 * rng.uniform() ** 3);
    const { placements, fields } = packCells(sides);
    expect(fields).toBeGreaterThan(1);
    for (let i = 0; i < sides.length; i++) {
      const a = placements[i]!;
      const ha = sides[i]! / 2;
      expect(a.x - ha).toBeGreaterThanOrEqual(-0.5 - 1e-9);
      expect(a.x + ha).toBeLessThanOrEqual(2047.5 + 1);
      expect(a.y + ha).toBeLessThanOrEqual(1488.5 + 1);
      for (let j = i + 1; j < sides.length; j++) {
        const b = placements[j]!;
        if (a.field !== b.field) continue;
        const hb = sides[j]! / 2;
        const apart = Math.abs(a.x - b.x) >= ha + hb - 1 || Math.abs(a.y - b.y) >= ha + hb - 1;
        expect(apart).toBe(true);
      }
    }
  });

  it('the posterior-median estimator beats a naive inversion of the mean relation', () => {
    const rng = new Rng(5);
    const sample = Array.from({ length: 3000 }, () => {
      const lm = sampleLogMass(rng, DEFAULT_MODEL);
      const n = sampleMembers(rng, 10 ** lm, DEFAULT_MODEL);
      return { logM500: lm, membersTrue: n, richness: n };
    });
    const med = posteriorMedians(DEFAULT_MODEL, Math.max(...sample.map((s) => s.membersTrue)));
    const mae = (f: (n: number) => number) => sample.reduce((s, c) => s + Math.abs(f(c.membersTrue) - c.logM500), 0) / sample.length;
    const naive = mae((n) => 14 + Math.log10(n / 20) / 0.9);
    const ideal = mae((n) => med[n]!);
    expect(ideal).toBeLessThan(naive);
    expect(ideal).toBeLessThanOrEqual(richnessBaseline(sample).maeDex + 1e-3);
    const floor = computeFloor(DEFAULT_MODEL, sample, 0.5, 1, 20000);
    expect(floor.maeFloorDex).toBeCloseTo(ideal, 12);
    expect(Math.abs(floor.maeFloorPopulationDex - ideal)).toBeLessThan(0.01);
  });
});
