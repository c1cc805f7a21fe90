import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  asciiTableUnit, binTableUnit, buildFits, findColumn, formatFitsError, getNumber, getString, imageUnit,
  numberColumn, parseFits, readFitsFile, readImage, readTable, stringColumn, type Bitpix, type FitsFile,
} from '../../src/astro/fits.js';
import { bzip2ToFile } from '../../src/astro/bz2.js';
import { CATALOGS, frameFile, haveSharedData, PHOTOFIELD } from './shared-data.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'astro-fits-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

function parsed(buf: Uint8Array, label = 'mem.fits'): FitsFile {
  const r = parseFits(buf, label);
  if (!r.ok) throw new Error(formatFitsError(r.error));
  return r.value;
}

describe('image HDUs round trip', () => {
  const shape = [7, 5];
  const values = Array.from({ length: 35 }, (_, i) => (i * 37) % 101 - 20);
  for (const bitpix of [8, 16, 32, 64, -32, -64] as Bitpix[]) {
    it(`BITPIX ${bitpix}`, () => {
      const data = bitpix === 8 ? values.map((v) => v + 20) : bitpix < 0 ? values.map((v) => v / 8) : values;
      const buf = buildFits([imageUnit({ bitpix, shape, data }, true), imageUnit({ bitpix, shape: [3], data: [1, 2, 3] }, false)]);
      expect(buf.length % 2880).toBe(0);
      const f = parsed(buf);
      expect(f.hdus.map((h) => h.kind)).toEqual(['primary', 'image']);
      const img = readImage(f, f.hdus[0]!);
      if (!img.ok) throw new Error(img.error.message);
      expect(img.value.shape).toEqual(shape);
      expect(Array.from(img.value.data)).toEqual(data);
      const ext = readImage(f, f.hdus[1]!);
      expect(ext.ok && Array.from(ext.value.data)).toEqual([1, 2, 3]);
    });
  }

  it('applies BSCALE/BZERO both ways (unsigned 16-bit convention and a real scale)', () => {
    const u16 = [0, 1, 40000, 65535];
    const f = parsed(buildFits([
      imageUnit({ bitpix: 16, shape: [4], data: u16, bzero: 32768, bscale: 1 }, true),
      imageUnit({ bitpix: 16, shape: [3], data: [-1.5, 0, 2.25], bzero: 0, bscale: 0.25 }, false),
    ]));
    expect(getNumber(f.hdus[0]!.header, 'BZERO')).toBe(32768);
    const a = readImage(f, f.hdus[0]!);
    const b = readImage(f, f.hdus[1]!);
    expect(a.ok && Array.from(a.value.data)).toEqual(u16);
    expect(b.ok && Array.from(b.value.data)).toEqual([-1.5, 0, 2.25]);
  });
});

describe('header cards', () => {
  it('writes and reads long strings through CONTINUE cards, logicals, reals and comments', () => {
    const long = "a path that is much longer than sixty-eight characters, with a quote ' in it, /and a slash, " + 'x'.repeat(80);
    const buf = buildFits([imageUnit({
      bitpix: 8, shape: [], data: [],
      cards: [
        { key: 'LONGSTR', value: long, comment: 'long' },
        { key: 'FLAG', value: false },
        { key: 'CRVAL1', value: 323.342792226, comment: 'RA of reference pixel' },
        { key: 'SCALE', value: 1, float: true },
        { key: 'TINY', value: 1.18442059558e-9 },
        { key: 'COMMENT', value: null, comment: 'free text', commentary: true },
      ],
    }, true)]);
    const text = buf.toString('latin1');
    expect(text).toContain('CONTINUE  ');
    const h = parsed(buf).hdus[0]!.header;
    expect(getString(h, 'LONGSTR')).toBe(long);
    expect(h.cards.find((c) => c.key === 'FLAG')?.value).toBe(false);
    expect(getNumber(h, 'CRVAL1')).toBe(323.342792226);
    expect(getNumber(h, 'TINY')).toBe(1.18442059558e-9);
    expect(text).toMatch(/SCALE   =\s+1\.0/);
    expect(h.cards.find((c) => c.key === 'COMMENT')?.comment).toBe('free text');
  });
});

describe('tables round trip', () => {
  it('BINTABLE with numeric, string, logical and fixed-array columns', () => {
    const rows = 3;
    const f = parsed(buildFits([
      imageUnit({ bitpix: 8, shape: [], data: [] }, true),
      binTableUnit(rows, [
        { name: 'ID', format: 'J', values: [1, -2, 2147483647] },
        { name: 'NAME', format: 'A', width: 12, values: ['Coma', "A'2142", ''] },
        { name: 'Z', format: 'D', values: [0.0231, 0.0894, 0.2965] },
        { name: 'FLUX', format: 'E', repeat: 5, unit: 'nMgy', values: Array.from({ length: 15 }, (_, i) => i / 4) },
        { name: 'GRID', format: 'I', repeat: 6, dim: [3, 2], values: Array.from({ length: 18 }, (_, i) => i - 9) },
        { name: 'BIG', format: 'K', values: [2 ** 40, -5, 0] },
        { name: 'B', format: 'B', values: [0, 128, 255] },
        { name: 'OK', format: 'L', values: [true, false, null] },
      ], [{ key: 'EXTNAME', value: 'TEST' }]),
    ]));
    const hdu = f.hdus[1]!;
    expect(hdu.kind).toBe('bintable');
    expect(hdu.name).toBe('TEST');
    const t = readTable(f, hdu);
    if (!t.ok) throw new Error(t.error.message);
    expect(t.value.rows).toBe(rows);
    const num = (n: string) => { const c = numberColumn(t.value, n); if (!c.ok) throw new Error(c.error.message); return Array.from(c.value.values); };
    expect(num('ID')).toEqual([1, -2, 2147483647]);
    expect(num('Z')).toEqual([0.0231, 0.0894, 0.2965]);
    expect(num('FLUX')).toEqual(Array.from({ length: 15 }, (_, i) => i / 4));
    expect(findColumn(t.value, 'FLUX')?.repeat).toBe(5);
    expect(findColumn(t.value, 'FLUX')?.unit).toBe('nMgy');
    expect(findColumn(t.value, 'GRID')?.dim).toEqual([3, 2]);
    expect(num('GRID')).toEqual(Array.from({ length: 18 }, (_, i) => i - 9));
    expect(num('BIG')).toEqual([2 ** 40, -5, 0]);
    expect(num('B')).toEqual([0, 128, 255]);
    const s = stringColumn(t.value, 'NAME');
    expect(s.ok && s.value).toEqual(['Coma', "A'2142", '']);
    const l = findColumn(t.value, 'OK');
    expect(l?.data.type === 'logical' && l.data.values).toEqual([true, false, null]);
  });

  it('ASCII TABLE with A, I, F and E columns, blanks read as NaN', () => {
    const f = parsed(buildFits([
      imageUnit({ bitpix: 8, shape: [], data: [] }, true),
      asciiTableUnit(3, [
        { name: 'MCXC', format: 'A', width: 12, values: ['J1259.7+2756', 'J1558.3+2713', 'J0658.5-5556'] },
        { name: 'N', format: 'I', width: 4, values: [1, 22, -333] },
        { name: 'z', format: 'F', width: 6, decimals: 4, values: [0.0231, 0.0894, 0.2965] },
        { name: 'M500', format: 'E', width: 13, decimals: 6, values: [4.2846, NaN, 10.3599] },
      ]),
    ]));
    const hdu = f.hdus[1]!;
    expect(hdu.kind).toBe('table');
    // ASCII table data is padded with blanks, not zeros.
    expect(f.bytes[hdu.dataStart + hdu.dataLength]).toBe(0x20);
    const t = readTable(f, hdu);
    if (!t.ok) throw new Error(t.error.message);
    const s = stringColumn(t.value, 'MCXC');
    expect(s.ok && s.value[2]).toBe('J0658.5-5556');
    const n = numberColumn(t.value, 'N');
    expect(n.ok && Array.from(n.value.values)).toEqual([1, 22, -333]);
    const z = numberColumn(t.value, 'z');
    expect(z.ok && Array.from(z.value.values)).toEqual([0.0231, 0.0894, 0.2965]);
    const m = numberColumn(t.value, 'M500');
    expect(m.ok && Array.from(m.value.values)).toEqual([4.2846, NaN, 10.3599]);
  });
});

describe('bad and truncated files name the file and the byte offset', () => {
  const good = buildFits([imageUnit({ bitpix: -32, shape: [100, 100], data: new Float32Array(10000) }, true)]);

  it('truncated data unit', () => {
    const r = parseFits(good.subarray(0, 2880 + 1000), 'cut.fits');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.kind).toBe('truncated');
    expect(r.error.offset).toBe(3880);
    expect(formatFitsError(r.error)).toMatch(/^cut\.fits: HDU 0: byte 3880: file ends inside the data unit that starts at byte 2880/);
  });

  it('truncated header', () => {
    const r = parseFits(Buffer.from(good.subarray(0, 2880)).fill(0x20, 400), 'head.fits');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(formatFitsError(r.error)).toMatch(/^head\.fits: HDU 0: byte 2880: file ends inside a header/);
  });

  it('not FITS at all', () => {
    const r = parseFits(Buffer.alloc(2880, 0x41), 'junk.fits');
    expect(!r.ok && formatFitsError(r.error)).toBe('junk.fits: HDU 0: byte 0: not a FITS file: it does not start with SIMPLE =');
  });

  it('a bad card value is located at its card', () => {
    const bad = Buffer.from(good);
    bad.write('BITPIX  = minus32'.padEnd(80), 80, 'latin1');
    const r = parseFits(bad, 'card.fits');
    expect(!r.ok && r.error.offset).toBe(80);
    expect(!r.ok && r.error.message).toContain('BITPIX');
  });

  it('a truncated .bz2 file names the file', async () => {
    const path = join(dir, 'frame.fits.bz2');
    await bzip2ToFile(good, path);
    const bytes = await readFile(path);
    const cutPath = join(dir, 'cut.fits.bz2');
    await writeFile(cutPath, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const whole = await readFitsFile(path);
    expect(whole.ok && whole.value.hdus.length).toBe(1);
    const r = await readFitsFile(cutPath);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.kind).toBe('decompress');
      expect(formatFitsError(r.error)).toContain(cutPath);
      expect(r.error.offset).not.toBeNull();
    }
  });

  it('a missing file is an io error naming it', async () => {
    const r = await readFitsFile(join(dir, 'nope.fits'));
    expect(!r.ok && r.error.kind).toBe('io');
    expect(!r.ok && r.error.file).toBe(join(dir, 'nope.fits'));
  });
});

describe.skipIf(!haveSharedData)('real files', () => {
  it('reads the real r frame: 4 HDUs, float32 image, calibvec, sky grid, trace table', async () => {
    const r = await readFitsFile(frameFile('r'));
    if (!r.ok) throw new Error(formatFitsError(r.error));
    const f = r.value;
    expect(f.hdus.map((h) => h.kind)).toEqual(['primary', 'image', 'bintable', 'bintable']);
    const img = readImage(f, f.hdus[0]!);
    if (!img.ok) throw new Error(img.error.message);
    expect(img.value.shape).toEqual([2048, 1489]);
    expect(img.value.data).toBeInstanceOf(Float32Array);
    expect(getString(f.hdus[0]!.header, 'BUNIT')).toBe('nanomaggy');
    expect(getNumber(f.hdus[0]!.header, 'EXPTIME')).toBeCloseTo(53.907456, 6); // stored as a string
    const sky = readTable(f, f.hdus[2]!);
    if (!sky.ok) throw new Error(sky.error.message);
    const allsky = findColumn(sky.value, 'ALLSKY');
    expect(allsky?.repeat).toBe(49152);
    expect(allsky?.dim).toEqual([256, 192]);
    const trace = readTable(f, f.hdus[3]!);
    if (!trace.ok) throw new Error(trace.error.message);
    expect(trace.value.columns).toHaveLength(31);
    const run = numberColumn(trace.value, 'RUN');
    expect(run.ok && run.value.values[0]).toBe(2583);
    const filt = stringColumn(trace.value, 'FILTER');
    expect(filt.ok && filt.value[0]).toBe('r');
  });

  it('reads MCXC, an ASCII TABLE: 1743 rows, Coma and A2142 values', async () => {
    const r = await readFitsFile(`${CATALOGS}mcxc.fits`);
    if (!r.ok) throw new Error(formatFitsError(r.error));
    const hdu = r.value.hdus[1]!;
    expect(hdu.kind).toBe('table');
    const t = readTable(r.value, hdu);
    if (!t.ok) throw new Error(t.error.message);
    expect(t.value.rows).toBe(1743);
    expect(t.value.columns).toHaveLength(30);
    const names = stringColumn(t.value, 'MCXC');
    const m500 = numberColumn(t.value, 'M500');
    const z = numberColumn(t.value, 'z');
    if (!names.ok || !m500.ok || !z.ok) throw new Error('columns');
    const coma = names.value.indexOf('J1259.7+2756');
    expect(z.value.values[coma]).toBe(0.0231);
    expect(m500.value.values[coma]).toBe(4.2846);
    const a2142 = names.value.indexOf('J1558.3+2713');
    expect(m500.value.values[a2142]).toBe(8.1491);
  });

  it('reads PSZ2, a BINTABLE with logical and string columns: 1653 rows, 1093 with mass', async () => {
    const r = await readFitsFile(`${CATALOGS}HFI_PCCS_SZ-union_R2.08.fits`);
    if (!r.ok) throw new Error(formatFitsError(r.error));
    const t = readTable(r.value, r.value.hdus[1]!);
    if (!t.ok) throw new Error(t.error.message);
    expect(t.value.rows).toBe(1653);
    const msz = numberColumn(t.value, 'MSZ');
    const zz = numberColumn(t.value, 'REDSHIFT');
    const name = stringColumn(t.value, 'NAME');
    if (!msz.ok || !zz.ok || !name.ok) throw new Error('columns');
    let withMass = 0;
    for (let i = 0; i < 1653; i++) if (msz.value.values[i]! > 0 && zz.value.values[i]! > 0) withMass++;
    expect(withMass).toBe(1093);
    const coma = name.value.indexOf('PSZ2 G057.80+88.00');
    expect(msz.value.values[coma]).toBeCloseTo(7.165, 3);
    expect(findColumn(t.value, 'COSMO')?.data.type).toBe('logical');
  });

  it('reads the photoField table: 227 fields, 5-band array columns, a 2-D TDIM column', async () => {
    const r = await readFitsFile(PHOTOFIELD);
    if (!r.ok) throw new Error(formatFitsError(r.error));
    const t = readTable(r.value, r.value.hdus[1]!);
    if (!t.ok) throw new Error(t.error.message);
    expect(t.value.rows).toBe(227);
    expect(t.value.columns).toHaveLength(116);
    const field = numberColumn(t.value, 'FIELD');
    expect(field.ok && [field.value.values[0], field.value.values[226]]).toEqual([30, 256]);
    expect(findColumn(t.value, 'PROF_MEAN_NMGY')?.dim).toEqual([15, 5]);
    const gain = numberColumn(t.value, 'GAIN');
    expect(gain.ok && gain.value.repeat).toBe(5);
  });
});
