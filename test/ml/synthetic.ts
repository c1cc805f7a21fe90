// Tiny synthetic cutout datasets in make-cutouts' exact format (docs/formats.md), for tests.
// Each cluster is a clump of member galaxies whose number grows with mass; each band has its own
// PSF width, member colour, sky level and noise, so a band classifier has something real to learn
// (PSF and colour survive per-image normalisation; sky level and noise amplitude do not).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/ml/rng.js';
import type { CutoutIndex } from '../../src/ml/cutouts.js';

export interface SyntheticOptions {
  count: number;
  size: number;
  seed: number;
  bands?: string[];
  /** Fraction of clusters with a known mass (the rest have logM500 null). */
  labelled?: number;
}

const PSF = [2.0, 1.5, 1.1, 0.8, 0.6];
const MEMBER_COLOUR = [0.2, 0.6, 1.0, 1.3, 1.5];
const SKY = [0.5, 1.0, 2.0, 3.0, 4.0];
const NOISE = [0.08, 0.05, 0.04, 0.05, 0.08];

export function writeSyntheticCutouts(dir: string, o: SyntheticOptions): CutoutIndex {
  const bands = o.bands ?? ['u', 'g', 'r', 'i', 'z'];
  const rng = new Rng(o.seed);
  const s = o.size;
  const nb = bands.length;
  const data = new Float32Array(o.count * s * s * nb);
  const clusters: CutoutIndex['clusters'] = [];
  for (let c = 0; c < o.count; c++) {
    const logM = 14 + rng.next();
    // Members ~ 10^(logM - 14) x 8, with Poisson-like scatter.
    const expected = 8 * 10 ** (logM - 14);
    const members = Math.max(1, Math.round(expected + Math.sqrt(expected) * rng.normal()));
    const richness = members * 2.5 * 10 ** (0.05 * rng.normal());
    const gal: { x: number; y: number; f: number; red: boolean }[] = [];
    for (let m = 0; m < members; m++) {
      const r = (s / 8) * Math.abs(rng.normal());
      const t = 2 * Math.PI * rng.next();
      gal.push({ x: s / 2 + r * Math.cos(t), y: s / 2 + r * Math.sin(t), f: 0.5 + rng.next(), red: true });
    }
    for (let m = 0; m < 3; m++) gal.push({ x: rng.next() * s, y: rng.next() * s, f: 0.3 + rng.next(), red: false });
    for (let b = 0; b < nb; b++) {
      const psf = PSF[b % PSF.length]!;
      for (let y = 0; y < s; y++) {
        for (let x = 0; x < s; x++) {
          let v = SKY[b % SKY.length]! + NOISE[b % NOISE.length]! * rng.normal();
          for (const g of gal) {
            const d2 = (x - g.x) ** 2 + (y - g.y) ** 2;
            if (d2 > 16 * psf * psf) continue;
            const colour = g.red ? MEMBER_COLOUR[b % MEMBER_COLOUR.length]! : 1;
            v += g.f * colour * Math.exp(-d2 / (2 * psf * psf));
          }
          data[((c * s + y) * s + x) * nb + b] = Math.asinh(v);
        }
      }
    }
    const labelled = rng.next() < (o.labelled ?? 1);
    clusters.push({
      id: `syn-${String(c).padStart(4, '0')}`, ra: 150 + c * 0.01, dec: 2, z: 0.1 + 0.3 * rng.next(),
      logM500: labelled ? logM : null, richness, maskedFraction: 0,
    });
  }
  const index: CutoutIndex = {
    format: 'massflow.cutouts/1', count: o.count, size: s, bands, dtype: 'float32', layout: 'NHWC',
    file: 'cutouts.f32', clusters,
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  writeFileSync(join(dir, 'cutouts.f32'), new Uint8Array(data.buffer));
  return index;
}
