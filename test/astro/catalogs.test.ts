import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import buildCatalog from '../../stages/build-catalog.js';
import { readAct, readMcxc, readPsz2, readRedmapper, type MassCluster, type RedmapperCluster } from '../../src/astro/catalogs.js';
import { parseClusterCatalog, formatClusterCatalog, readClusterCatalog } from '../../src/astro/cluster-catalog.js';
import { angularDiameterDistance, r500Mpc } from '../../src/astro/cosmology.js';
import { chooseLabel, crossMatch } from '../../src/astro/crossmatch.js';
import { csvNumber, readCsvFile } from '../../src/astro/csv.js';
import { runStageInProcess } from '../../src/stage/testing.js';
import { CATALOGS, haveSharedData } from './shared-data.js';

describe('cross-match rules', () => {
  const rm = (id: number, ra: number, dec: number, z: number): RedmapperCluster => ({ id, name: `rm${id}`, ra, dec, z, lambda: 30 });
  const mc = (name: string, ra: number, dec: number, z: number, m500 = 3): MassCluster => ({ name, ra, dec, z, m500 });
  const clusters = [rm(1, 10, 0, 0.2), rm(2, 10.04, 0, 0.2), rm(3, 20, 5, 0.3), rm(4, 30, -5, 0.1)];

  it('takes the nearest centre within the radius whose redshift agrees', () => {
    const m = crossMatch(clusters, [mc('a', 10.01, 0, 0.21), mc('b', 20.06, 5, 0.3), mc('c', 30, -5, 0.2)], { radiusArcmin: 3, dzTolerance: 0.05 });
    // a -> 1 (0.6' away; 2 is 1.8' away); b is 3.6' from 3; c fails |dz| = 0.1 > 0.05 * 1.2.
    expect(m.map((x) => [x.rm, x.other])).toEqual([[0, 0]]);
    expect(m[0]!.sepArcmin).toBeCloseTo(0.6, 3);
  });

  it('keeps one partner per redMaPPer cluster (the nearest), skips entries without z or mass', () => {
    const m = crossMatch(clusters, [mc('far', 10.03, 0, 0.2), mc('near', 10.005, 0, 0.2), mc('noz', 10, 0, NaN), mc('nom', 10, 0, 0.2, NaN)], { radiusArcmin: 3, dzTolerance: 0.05 });
    expect(m.map((x) => [x.rm, x.other])).toEqual([[0, 1], [1, 0]]);
  });

  it('labels by precedence: log10 of M500 in Msun', () => {
    expect(chooseLabel(2, 4, 'mcxc')).toEqual({ logM500: 14 + Math.log10(2), source: 'mcxc' });
    expect(chooseLabel(2, 4, 'psz2')).toEqual({ logM500: 14 + Math.log10(4), source: 'psz2' });
    expect(chooseLabel(2, 4, 'mean')?.logM500).toBeCloseTo(14 + Math.log10(Math.sqrt(8)), 12);
    expect(chooseLabel(undefined, 4, 'mcxc')?.source).toBe('psz2');
    expect(chooseLabel(undefined, undefined, 'mcxc')).toBeUndefined();
  });
});

describe('cluster catalogue CSV', () => {
  it('round trips and reports located errors', () => {
    const rows = [{ id: 'a', ra: 1.5, dec: -2, z: 0.2, logM500: 14.5, richness: 40, membersTrue: 37, extra: { name: 'x,y' } },
      { id: 'b', ra: 3, dec: 4, z: 0.3, logM500: null, richness: null, membersTrue: null, extra: { name: '' } }];
    const back = parseClusterCatalog(formatClusterCatalog(rows, ['name']), 'c.csv');
    expect(back.ok && back.value).toEqual(rows);
    const dup = parseClusterCatalog('id,ra,dec,z,logM500,richness,members_true\na,1,2,0.1,,,\na,1,2,0.1,,,\n', 'd.csv');
    expect(!dup.ok && dup.error).toBe('d.csv:3: duplicate id a');
    const noz = parseClusterCatalog('id,ra,dec,z,logM500,richness,members_true\na,1,2,,,,\n', 'z.csv');
    expect(!noz.ok && noz.error).toMatch(/^z\.csv:2: cluster a has no valid redshift/);
    const cols = parseClusterCatalog('id,ra,dec\n', 'h.csv');
    expect(!cols.ok && cols.error).toMatch(/^h\.csv:1: missing column\(s\) z, logM500/);
  });
});

describe.skipIf(!haveSharedData)('the shipped catalogues', () => {
  it('MCXC: FITS and CSV copies agree; our cosmology reproduces its Scale and R500 columns', async () => {
    const fits = await readMcxc(`${CATALOGS}mcxc.fits`);
    const csv = await readMcxc(`${CATALOGS}mcxc.csv.gz`);
    if (!fits.ok || !csv.ok) throw new Error('read');
    expect(fits.value).toHaveLength(1743);
    expect(csv.value.map((c) => [c.ra, c.dec, c.z, c.m500])).toEqual(fits.value.map((c) => [c.ra, c.dec, c.z, c.m500]));
    const t = await readCsvFile(`${CATALOGS}mcxc.csv.gz`);
    if (!t.ok) throw new Error('csv');
    const [iz, is, im, ir] = ['z', 'Scale', 'M500', 'R500'].map((n) => t.value.header.indexOf(n));
    let worstScale = 0;
    let worstR = 0;
    for (const row of t.value.rows) {
      const z = csvNumber(row[iz!]);
      const scale = (angularDiameterDistance(z) * 1000 * Math.PI) / 180 / 3600; // kpc per arcsec
      worstScale = Math.max(worstScale, Math.abs(scale / csvNumber(row[is!]) - 1));
      worstR = Math.max(worstR, Math.abs(r500Mpc(csvNumber(row[im!]) * 1e14, z) / csvNumber(row[ir!]) - 1));
    }
    expect(worstScale).toBeLessThan(0.01); // Scale is printed to 3 decimals
    expect(worstR).toBeLessThan(0.01);
  });

  it('PSZ2, redMaPPer, ACT: row counts and known clusters', async () => {
    const pz = await readPsz2(`${CATALOGS}HFI_PCCS_SZ-union_R2.08.fits`);
    const rmc = await readRedmapper(`${CATALOGS}sdss_redmapper_dr8_v5.10_subset.csv.gz`);
    const act = await readAct(`${CATALOGS}act_dr5_subset.csv.gz`);
    if (!pz.ok || !rmc.ok || !act.ok) throw new Error('read');
    expect(pz.value).toHaveLength(1653);
    expect(pz.value.filter((c) => Number.isFinite(c.m500) && Number.isFinite(c.z))).toHaveLength(1093);
    expect(pz.value.find((c) => c.name === 'PSZ2 G044.20+48.66')?.redmapper).toBe('RMJ155820.0+271400.3');
    expect(rmc.value).toHaveLength(26350);
    expect(rmc.value[0]).toMatchObject({ id: 1, name: 'RMJ155820.0+271400.3', lambda: 180.10445 });
    expect(act.value).toHaveLength(4195);
    // The inverted ACT mass is a few 1e14 Msun for typical clusters.
    const med = act.value.map((c) => c.m500).filter(Number.isFinite).sort((a, b) => a - b)[2000]!;
    expect(med).toBeGreaterThan(1);
    expect(med).toBeLessThan(10);
  });

  it('missing files and columns are errors naming the file', async () => {
    const r = await readRedmapper(`${CATALOGS}mcxc.csv.gz`);
    expect(!r.ok && r.error.message).toMatch(/mcxc\.csv\.gz:1: no column "ID"/);
    const f = await readPsz2('/nonexistent/psz2.fits');
    expect(!f.ok && f.error.file).toBe('/nonexistent/psz2.fits');
  });
});

describe.skipIf(!haveSharedData)('build-catalog stage on the shipped catalogues', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'astro-catalog-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });
  const catalog = (extra: Record<string, unknown>) => ({
    catalog: {
      redmapper: `${CATALOGS}sdss_redmapper_dr8_v5.10_subset.csv.gz`, mcxc: `${CATALOGS}mcxc.fits`, psz2: `${CATALOGS}HFI_PCCS_SZ-union_R2.08.fits`, ...extra,
    },
  });

  it('3 arcmin, |dz| < 0.05(1+z): 523 labelled, the rest unlabelled, counts in the metrics', async () => {
    const rec = await runStageInProcess(buildCatalog, { projectDir: dir, params: catalog({}), outs: ['data/catalog'] });
    const metric = (k: string) => rec.metrics.find((m) => m.key === k)?.value;
    expect(metric('catalog.redmapper')).toBe(26298);
    expect(metric('catalog.matched_mcxc')).toBe(365);
    expect(metric('catalog.matched_psz2')).toBe(283);
    expect(metric('catalog.matched_both')).toBe(125);
    expect(metric('catalog.labelled')).toBe(523);
    expect(metric('catalog.unlabelled')).toBe(26298 - 523);
    const labelled = await readClusterCatalog(join(dir, 'data/catalog/labelled.csv'));
    if (!labelled.ok) throw new Error(labelled.error);
    expect(labelled.value).toHaveLength(523);
    const a2142 = labelled.value.find((c) => c.id === 'rm-1')!;
    expect(a2142.logM500).toBeCloseTo(14 + Math.log10(8.1491), 4); // MCXC takes precedence
    expect(a2142.extra).toMatchObject({ mass_source: 'mcxc', mcxc: 'J1558.3+2713', psz2: 'PSZ2 G044.20+48.66' });
    for (const c of labelled.value) {
      expect(c.logM500).toBeGreaterThan(13);
      expect(c.logM500).toBeLessThan(15.7);
    }
    const all = await readFile(join(dir, 'data/catalog/catalog.csv'), 'utf8');
    expect(all.trim().split('\n')).toHaveLength(1 + 26298);
    expect(JSON.parse(await readFile(join(dir, 'data/catalog/summary.json'), 'utf8'))).toMatchObject({ labelled: 523, matchedBoth: 125 });
  });

  it('precedence psz2 switches the 125 doubly-matched labels', async () => {
    await runStageInProcess(buildCatalog, { projectDir: dir, params: catalog({ precedence: 'psz2' }), outs: ['data/catalog-psz2'] });
    const labelled = await readClusterCatalog(join(dir, 'data/catalog-psz2/labelled.csv'));
    if (!labelled.ok) throw new Error(labelled.error);
    expect(labelled.value.filter((c) => c.extra.mass_source === 'psz2')).toHaveLength(283);
    expect(labelled.value.find((c) => c.id === 'rm-1')!.logM500).toBeCloseTo(14 + Math.log10(8.771), 3);
  });
});

describe('redMaPPer public FITS layout (.fits.gz)', () => {
  it('reads ID/NAME/RA/DEC/Z_LAMBDA/LAMBDA from a gzipped BINTABLE', async () => {
    const { binTableUnit, buildFits, imageUnit } = await import('../../src/astro/fits.js');
    const { gzipSync } = await import('node:zlib');
    const { writeFile: write, mkdtemp: mk } = await import('node:fs/promises');
    const d = await mk(join(tmpdir(), 'astro-rm-'));
    const path = join(d, 'redmapper_dr8_public_v6.3_catalog.fits.gz');
    await write(path, gzipSync(buildFits([
      imageUnit({ bitpix: 8, shape: [], data: [] }, true),
      binTableUnit(2, [
        { name: 'ID', format: 'J', values: [1, 2] },
        { name: 'NAME', format: 'A', width: 20, values: ['RMJ155820.0+271400.3', 'RMJ164019.8+464241.5'] },
        { name: 'RA', format: 'D', values: [239.58333, 250.08255] },
        { name: 'DEC', format: 'D', values: [27.23341, 46.71153] },
        { name: 'Z_LAMBDA', format: 'E', values: [0.0958, -1] },
        { name: 'LAMBDA', format: 'E', values: [169.8, 199.6] },
      ]),
    ])));
    const r = await readRedmapper(path);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.map((c) => [c.id, c.name, c.lambda])).toEqual([[1, 'RMJ155820.0+271400.3', Math.fround(169.8)], [2, 'RMJ164019.8+464241.5', Math.fround(199.6)]]);
    expect(r.value[0]!.z).toBeCloseTo(0.0958, 6);
    expect(r.value[1]!.z).toBeNaN();
    await rm(d, { recursive: true, force: true });
  });
});
