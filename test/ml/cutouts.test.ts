// Reading make-cutouts' dataset: layout (NHWC, band interleaved) and clear errors for bad input.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dihedral } from '../../src/ml/augment.js';
import { CutoutDataset } from '../../src/ml/cutouts.js';
import { checkBandNetConfig } from '../../src/ml/band-net.js';
import { bandScales, normaliseBand, normaliseImage, robustStats } from '../../src/ml/normalise.js';
import { writeSyntheticCutouts } from './synthetic.js';

let dir: string;

function copyWith(name: string, edit: (index: Record<string, unknown>) => void, bytes?: number): string {
  const d = join(dir, name);
  writeSyntheticCutouts(d, { count: 3, size: 8, seed: 1 });
  const index = JSON.parse(readFileSync(join(d, 'index.json'), 'utf8'));
  edit(index);
  writeFileSync(join(d, 'index.json'), JSON.stringify(index));
  if (bytes !== undefined) writeFileSync(join(d, 'cutouts.f32'), new Uint8Array(bytes));
  return d;
}

describe('cutout dataset', () => {
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'massflow-ml-cutouts-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads cutouts in NHWC order and splits out single bands', () => {
    const d = join(dir, 'ok');
    writeSyntheticCutouts(d, { count: 3, size: 8, seed: 1 });
    const raw = new Float32Array(new Uint8Array(readFileSync(join(d, 'cutouts.f32'))).buffer);
    const r = CutoutDataset.open(d);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const ds = r.value;
    expect(ds.cutoutLength).toBe(8 * 8 * 5);
    const c2 = ds.readCutout(2);
    expect(Array.from(c2)).toEqual(Array.from(raw.subarray(2 * 320, 3 * 320)));
    const g = ds.readBand(2, 1);
    // pixel (y=3, x=4) of band g is element ((3*8)+4)*5 + 1 of the cutout
    expect(g[3 * 8 + 4]).toBe(c2[(3 * 8 + 4) * 5 + 1]);
    expect(() => ds.readCutout(3)).toThrow(RangeError);
    ds.close();
  });

  it('says what is wrong with a bad dataset', () => {
    const missing = CutoutDataset.open(join(dir, 'nowhere'));
    expect(missing.ok || missing.error).toMatch(/cannot read .*nowhere\/index.json/);
    const wrongFormat = CutoutDataset.open(copyWith('fmt', (i) => { i.format = 'massflow.cutouts/9'; }));
    expect(wrongFormat.ok || wrongFormat.error).toMatch(/is not a massflow.cutouts\/1 index: at \/format/);
    const badCount = CutoutDataset.open(copyWith('count', (i) => { i.count = 4; }));
    expect(badCount.ok || badCount.error).toMatch(/count is 4 but clusters has 3 entries/);
    const short = CutoutDataset.open(copyWith('short', () => {}, 100));
    expect(short.ok || short.error).toMatch(/has 100 bytes; the index \(3 x 8x8 x 5 bands, float32\) needs 3840/);
    const badMass = CutoutDataset.open(copyWith('mass', (i) => { (i.clusters as { logM500: unknown }[])[0]!.logM500 = 'heavy'; }));
    expect(badMass.ok || badMass.error).toMatch(/at \/clusters\/0\/logM500/);
  });
});

describe('image preprocessing', () => {
  it('per-image normalisation removes sky level and noise amplitude', () => {
    const base = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i * 1.7) + (i === 27 ? 5 : 0));
    const a = normaliseImage(base.map((v) => 3 + 0.5 * v), 'image');
    const b = normaliseImage(base.map((v) => -1 + 2 * v), 'image');
    for (let i = 0; i < 64; i++) expect(a[i]).toBeCloseTo(b[i]!, 4);
    expect(normaliseImage(Float32Array.of(1, 2, 3), 'none')).toEqual(Float32Array.of(1, 2, 3));
    // A constant (e.g. fully masked) image is centred, not divided by zero.
    expect(Array.from(normaliseImage(new Float32Array(9).fill(4), 'image'))).toEqual(new Array(9).fill(0));
  });

  it('band normalisation brings each band\'s noise to 1 but keeps a brighter image brighter', () => {
    const noise = Float32Array.from({ length: 400 }, (_, i) => Math.sin(i * 1.7) * Math.cos(i * 0.31));
    // Band 0 is quiet, band 1 four times noisier; image 1 of each band holds a bright source.
    const img = (i: number, b: number) => noise.map((v, k) => (b === 0 ? 1 : 4) * (v + (i === 1 && k % 50 === 0 ? 20 : 0)) + 7);
    const scales = bandScales(img, [0, 1, 2], 2);
    expect(scales[1]! / scales[0]!).toBeCloseTo(4, 3);
    const cfg = { normalisation: 'band' as const, bandScales: scales };
    const faint = [0, 1].map((b) => normaliseBand(img(0, b), cfg, b));
    // The noise of both bands now has the same spread, so it does not tell the bands apart ...
    expect(robustStats(faint[0]!).sigma).toBeCloseTo(robustStats(faint[1]!).sigma, 4);
    expect(robustStats(faint[0]!).med).toBeCloseTo(0, 5);
    // ... while the image with the source keeps its flux: per-image scaling would have shrunk it.
    const bright = normaliseBand(img(1, 0), cfg, 0);
    expect(Math.max(...bright)).toBeGreaterThan(15 * Math.max(...faint[0]!));
    expect(() => normaliseBand(img(0, 0), { normalisation: 'band' }, 0)).toThrow(/no scale for band 0/);
    const netCfg = { size: 8, bands: ['u', 'g'], width: 2, featureChannels: 2, normalisation: 'band' as const };
    expect(checkBandNetConfig(netCfg)).toEqual({ ok: false, error: 'band normalisation needs one scale per band (2), got none' });
    expect(checkBandNetConfig({ ...netCfg, bandScales: [1, 2] }).ok).toBe(true);
  });

  it('dihedral transforms are the 8 distinct symmetries of the square', () => {
    const s = 4;
    const img = Float32Array.from({ length: s * s * 2 }, (_, i) => i);
    const all = new Set([0, 1, 2, 3, 4, 5, 6, 7].map((k) => dihedral(img, s, 2, k).join()));
    expect(all.size).toBe(8);
    // Four quarter turns are the identity; so is a flip applied twice.
    let r: Float32Array = img;
    for (let i = 0; i < 4; i++) r = dihedral(r, s, 2, 1);
    expect(Array.from(r)).toEqual(Array.from(img));
    expect(Array.from(dihedral(dihedral(img, s, 2, 4), s, 2, 4))).toEqual(Array.from(img));
    // Channels move together: a pixel's two values stay adjacent.
    const t = dihedral(img, s, 2, 3);
    for (let p = 0; p < s * s; p++) expect(t[p * 2 + 1]! - t[p * 2]!).toBe(1);
  });
});
