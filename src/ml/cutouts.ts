// Reading make-cutouts' dataset (docs/formats.md, "Cutout dataset"): index.json + cutouts.f32.
// Images are read by position, so a paper-scale dataset need not fit in memory; a small one is
// loaded whole once, because training revisits every image each epoch.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { err, ok, type Result } from '../core/result.js';

export const CUTOUTS_FORMAT = 'massflow.cutouts/1';

const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

export const ClusterMetaSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  ra: Type.Number(),
  dec: Type.Number(),
  z: Type.Number(),
  logM500: NullableNumber,
  richness: NullableNumber,
  maskedFraction: Type.Number({ minimum: 0, maximum: 1 }),
});
export type ClusterMeta = Static<typeof ClusterMetaSchema>;

export const CutoutIndexSchema = Type.Object({
  format: Type.Literal(CUTOUTS_FORMAT),
  count: Type.Integer({ minimum: 0 }),
  size: Type.Integer({ minimum: 1 }),
  bands: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, uniqueItems: true }),
  dtype: Type.Literal('float32'),
  layout: Type.Literal('NHWC'),
  file: Type.String({ minLength: 1 }),
  clusters: Type.Array(ClusterMetaSchema),
});
export type CutoutIndex = Static<typeof CutoutIndexSchema>;

/** Loaded whole below this size; read image by image above it. */
const PRELOAD_LIMIT_BYTES = 1 << 30;

export class CutoutDataset {
  readonly index: CutoutIndex;
  readonly dir: string;
  private readonly fd: number;
  private readonly all: Float32Array | undefined;

  private constructor(dir: string, index: CutoutIndex, fd: number, all: Float32Array | undefined) {
    this.dir = dir;
    this.index = index;
    this.fd = fd;
    this.all = all;
  }

  get count(): number { return this.index.count; }
  get size(): number { return this.index.size; }
  get bands(): readonly string[] { return this.index.bands; }
  /** Floats in one cutout (all bands). */
  get cutoutLength(): number { return this.index.size * this.index.size * this.index.bands.length; }

  /** Validates index.json against the format and the data file's length against the index. */
  static open(dir: string): Result<CutoutDataset> {
    const indexPath = join(dir, 'index.json');
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(indexPath, 'utf8'));
    } catch (e) {
      return err(`cannot read ${indexPath}: ${(e as Error).message}`);
    }
    if (!Value.Check(CutoutIndexSchema, raw)) {
      const first = [...Value.Errors(CutoutIndexSchema, raw)][0];
      return err(`${indexPath} is not a ${CUTOUTS_FORMAT} index: at ${first?.path || '/'}: ${first?.message}`);
    }
    const index = raw;
    if (index.clusters.length !== index.count) {
      return err(`${indexPath}: count is ${index.count} but clusters has ${index.clusters.length} entries`);
    }
    const dataPath = join(dir, index.file);
    let fd: number;
    try {
      fd = openSync(dataPath, 'r');
    } catch (e) {
      return err(`cannot open ${dataPath}: ${(e as Error).message}`);
    }
    const expected = index.count * index.size * index.size * index.bands.length * 4;
    const actual = fstatSync(fd).size;
    if (actual !== expected) {
      closeSync(fd);
      return err(`${dataPath} has ${actual} bytes; the index (${index.count} x ${index.size}x${index.size} x ${index.bands.length} bands, float32) needs ${expected}`);
    }
    let all: Float32Array | undefined;
    if (expected <= PRELOAD_LIMIT_BYTES) {
      all = new Float32Array(expected / 4);
      readFully(fd, new Uint8Array(all.buffer), 0);
      fixEndianness(all);
    }
    return ok(new CutoutDataset(dir, index, fd, all));
  }

  /** Cutout i, all bands, NHWC (size*size*bands floats). */
  readCutout(i: number): Float32Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`cutout ${i} out of 0..${this.count - 1}`);
    const n = this.cutoutLength;
    if (this.all) return this.all.subarray(i * n, (i + 1) * n);
    const out = new Float32Array(n);
    readFully(this.fd, new Uint8Array(out.buffer), i * n * 4);
    fixEndianness(out);
    return out;
  }

  /** One band of cutout i as a size*size image. */
  readBand(i: number, band: number): Float32Array {
    const c = this.readCutout(i);
    const nb = this.bands.length;
    const out = new Float32Array(this.size * this.size);
    for (let p = 0; p < out.length; p++) out[p] = c[p * nb + band]!;
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

/** The file is little-endian; swap on a big-endian host. */
function fixEndianness(a: Float32Array): void {
  if (endianness() === 'LE') return;
  const v = new DataView(a.buffer, a.byteOffset, a.byteLength);
  for (let i = 0; i < a.length; i++) a[i] = v.getFloat32(i * 4, true);
}
