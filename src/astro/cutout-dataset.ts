// The cutout dataset (docs/formats.md): index.json plus one little-endian float32 file of
// count x size x size x bands values in NHWC order. Written once by make-cutouts; read by the
// model stages (whole, or one image at a time by offset).
import { open, readFile, rename, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import type { Band } from './sdss-frame.js';

export const CUTOUT_FORMAT = 'massflow.cutouts/1';

export interface CutoutClusterEntry {
  readonly id: string;
  readonly ra: number;
  readonly dec: number;
  readonly z: number;
  readonly logM500: number | null;
  readonly richness: number | null;
  readonly maskedFraction: number;
  /** True member count (simulated skies only), else null. */
  readonly membersTrue: number | null;
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

/** Writes the float32 data and then index.json (each via a temporary name), so readers never see a half dataset. */
export async function writeCutoutDataset(dir: string, index: Omit<CutoutIndex, 'format' | 'dtype' | 'layout' | 'file'>, data: Float32Array): Promise<void> {
  const expected = index.count * index.size * index.size * index.bands.length;
  if (data.length !== expected) throw new Error(`cutout data has ${data.length} values, index says ${expected}`);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (endianness() === 'BE') bytes.swap32();
  const file = 'cutouts.f32';
  await writeFile(join(dir, `${file}.tmp`), bytes);
  await rename(join(dir, `${file}.tmp`), join(dir, file));
  const full: CutoutIndex = { format: CUTOUT_FORMAT, dtype: 'float32', layout: 'NHWC', file, ...index };
  await writeFile(join(dir, 'index.json.tmp'), JSON.stringify(full, null, 1) + '\n');
  await rename(join(dir, 'index.json.tmp'), join(dir, 'index.json'));
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
