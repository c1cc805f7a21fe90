// The cutout dataset (docs/formats.md): index.json plus one little-endian float32 file of
// count x size x size x bands values in NHWC order. Written by make-cutouts image by image; read by
// the model stages (whole, or one image at a time by offset).
import { open, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import type { ClusterRow } from './cluster-catalog.js';
import type { Band } from './sdss-frame.js';

export const CUTOUT_FORMAT = 'massflow.cutouts/1';

/** A catalogue row as the cutout index keeps it: no extra columns, plus how much of it is masked. */
export interface CutoutClusterEntry extends Omit<ClusterRow, 'extra'> {
  readonly maskedFraction: number;
}

export interface CutoutIndex {
  readonly format: typeof CUTOUT_FORMAT;
  readonly count: number;
  readonly size: number;
  readonly bands: readonly Band[];
  readonly dtype: 'float32';
  readonly layout: 'NHWC';
  readonly file: string;
  readonly clusters: readonly CutoutClusterEntry[];
  /** How the images were made: side, stretch, orientation. Extra fields, ignored by older readers. */
  readonly cutout: Readonly<Record<string, unknown>>;
}

/**
 * Writes the images one at a time at their positions in a temporary file, so a paper-scale dataset
 * (26k clusters x 5 bands x 64 px is 2 GB) never sits in memory; `close` keeps the chosen images
 * in order, writes cutouts.f32 and then index.json, each under a temporary name first, so a reader
 * never sees a half-written dataset.
 */
export class CutoutWriter {
  private constructor(private readonly dir: string, private readonly fh: FileHandle, private readonly per: number) {}

  static async open(dir: string, count: number, per: number): Promise<CutoutWriter> {
    const fh = await open(join(dir, 'cutouts.f32.all.tmp'), 'w+');
    await fh.truncate(count * per * 4);
    return new CutoutWriter(dir, fh, per);
  }

  /** Image i (per floats, NHWC). */
  async put(i: number, image: Float32Array): Promise<void> {
    if (image.length !== this.per) throw new Error(`cutout ${i} has ${image.length} values, expected ${this.per}`);
    const bytes = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
    if (endianness() === 'BE') bytes.swap32();
    await this.fh.write(bytes, 0, bytes.length, i * this.per * 4);
  }

  /** Keeps images `keep` (ascending indices) and writes the index. */
  async close(keep: readonly number[], index: Omit<CutoutIndex, 'format' | 'dtype' | 'layout' | 'file' | 'count'>): Promise<void> {
    const file = 'cutouts.f32';
    const all = join(this.dir, 'cutouts.f32.all.tmp');
    const size = (await this.fh.stat()).size;
    if (keep.length === size / (this.per * 4)) {
      await this.fh.close();
      await rename(all, join(this.dir, file));
    } else {
      const out = await open(join(this.dir, `${file}.tmp`), 'w');
      const buf = Buffer.alloc(this.per * 4);
      for (const [k, i] of keep.entries()) {
        await this.fh.read(buf, 0, buf.length, i * this.per * 4);
        await out.write(buf, 0, buf.length, k * this.per * 4);
      }
      await out.close();
      await this.fh.close();
      await rm(all, { force: true });
      await rename(join(this.dir, `${file}.tmp`), join(this.dir, file));
    }
    if (index.clusters.length !== keep.length) throw new Error(`index lists ${index.clusters.length} clusters for ${keep.length} images`);
    const full: CutoutIndex = { format: CUTOUT_FORMAT, dtype: 'float32', layout: 'NHWC', file, count: keep.length, ...index };
    await writeFile(join(this.dir, 'index.json.tmp'), JSON.stringify(full, null, 1) + '\n');
    await rename(join(this.dir, 'index.json.tmp'), join(this.dir, 'index.json'));
  }
}

export async function readCutoutIndex(dir: string): Promise<CutoutIndex> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as CutoutIndex;
  if (index.format !== CUTOUT_FORMAT) throw new Error(`${join(dir, 'index.json')}: format is ${String(index.format)}, expected ${CUTOUT_FORMAT}`);
  return index;
}

/** One image (size x size x bands, NHWC) read at its offset, without loading the rest. */
export async function readCutoutImage(dir: string, index: CutoutIndex, i: number): Promise<Float32Array> {
  const per = index.size * index.size * index.bands.length;
  if (i < 0 || i >= index.count) throw new Error(`cutout ${i} out of range 0..${index.count - 1}`);
  const fh = await open(join(dir, index.file), 'r');
  try {
    const buf = Buffer.alloc(per * 4);
    const { bytesRead } = await fh.read(buf, 0, buf.length, i * per * 4);
    if (bytesRead !== buf.length) throw new Error(`${join(dir, index.file)}: short read at image ${i} (byte ${i * per * 4})`);
    if (endianness() === 'BE') buf.swap32();
    return new Float32Array(buf.buffer, buf.byteOffset, per);
  } finally {
    await fh.close();
  }
}
