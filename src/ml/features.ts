// The feature dataset extract-features writes and fit-mass, cross-validate and explain read:
// network 1's frozen feature maps for every cluster (labelled or not: the pretext task learns from
// all of them, network 2's mass fits from the labelled, `labelledOnly`), the bands of `features.bands` (all
// cutout bands by default) concatenated band-major in the cutouts' band order.
//   index.json   { format, count, side, bands, channelsPerBand, channels, file, size, normalisation,
//                  backend, clusters: [{ id, cutoutIndex, logM500, richness, z }] }
//   features.f32 count x side x side x channels little-endian float32 (NHWC)
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { err, ok, type Result } from '../core/result.js';

export const FEATURES_FORMAT = 'massflow.features/1';

const FeatureClusterSchema = Type.Object({
  id: Type.String(),
  /** Position of this cluster in the cutout dataset, to get back to its pixels. */
  cutoutIndex: Type.Integer({ minimum: 0 }),
  /** null for an unlabelled cluster. */
  logM500: Type.Union([Type.Number(), Type.Null()]),
  richness: Type.Union([Type.Number(), Type.Null()]),
  z: Type.Number(),
});
export type FeatureCluster = Static<typeof FeatureClusterSchema>;

export const FeatureIndexSchema = Type.Object({
  format: Type.Literal(FEATURES_FORMAT),
  count: Type.Integer({ minimum: 0 }),
  side: Type.Integer({ minimum: 1 }),
  bands: Type.Array(Type.String()),
  channelsPerBand: Type.Integer({ minimum: 1 }),
  channels: Type.Integer({ minimum: 1 }),
  /** Cutout side the features were computed from. */
  size: Type.Integer({ minimum: 1 }),
  normalisation: Type.String(),
  backend: Type.String(),
  file: Type.String(),
  clusters: Type.Array(FeatureClusterSchema),
});
export type FeatureIndex = Static<typeof FeatureIndexSchema>;

export interface FeatureSet {
  index: FeatureIndex;
  /** count x side x side x channels */
  data: Float32Array;
}

export type LabelledFeatureCluster = FeatureCluster & { logM500: number };

/** A feature set holding only labelled clusters: what mass fits, cross-validation and explain see. */
export interface LabelledFeatureSet extends FeatureSet {
  index: Omit<FeatureIndex, 'clusters'> & { clusters: LabelledFeatureCluster[] };
}

/** The labelled clusters of a feature set, in their order (the fold assignment is over them). */
export function labelledOnly(set: FeatureSet): Result<LabelledFeatureSet> {
  const keep = set.index.clusters.flatMap((c, i) => (c.logM500 === null ? [] : [i]));
  if (keep.length === 0) return err('the feature set has no labelled cluster (no logM500)');
  const clusters = keep.map((i) => set.index.clusters[i]! as LabelledFeatureCluster);
  const data = keep.length === set.index.count ? set.data : gatherMaps(set, keep);
  return ok({ index: { ...set.index, count: keep.length, clusters }, data });
}

export const mapLength = (ix: Pick<FeatureIndex, 'side' | 'channels'>): number => ix.side * ix.side * ix.channels;

export async function writeFeatures(dir: string, set: FeatureSet): Promise<string[]> {
  const { index, data } = set;
  if (data.length !== index.count * mapLength(index)) throw new Error('feature data does not match its index');
  await mkdir(dir, { recursive: true });
  const files = [join(dir, 'index.json'), join(dir, index.file)];
  await writeFile(files[0]!, JSON.stringify(index, null, 1) + '\n');
  await writeFile(files[1]!, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return files;
}

export async function readFeatures(dir: string): Promise<Result<FeatureSet>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
  } catch (e) {
    return err(`cannot read ${join(dir, 'index.json')}: ${(e as Error).message}`);
  }
  if (!Value.Check(FeatureIndexSchema, raw)) {
    const first = [...Value.Errors(FeatureIndexSchema, raw)][0];
    return err(`${join(dir, 'index.json')} is not a ${FEATURES_FORMAT} index: at ${first?.path || '/'}: ${first?.message}`);
  }
  const index = raw;
  if (index.clusters.length !== index.count) return err(`${dir}: count ${index.count} but ${index.clusters.length} clusters`);
  if (index.channels !== index.channelsPerBand * index.bands.length) return err(`${dir}: channels != channelsPerBand x bands`);
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, index.file));
  } catch (e) {
    return err(`cannot read ${join(dir, index.file)}: ${(e as Error).message}`);
  }
  const expected = index.count * mapLength(index) * 4;
  if (bytes.byteLength !== expected) return err(`${join(dir, index.file)} has ${bytes.byteLength} bytes, expected ${expected}`);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return ok({ index, data });
}

/**
 * Positions in the cutouts' bands of the bands network 2 is to see (`features.bands`; all when
 * omitted), in the cutouts' order whatever the order asked: the channel layout then depends only
 * on which bands are chosen.
 */
export function selectFeatureBands(available: readonly string[], wanted: readonly string[] | undefined): Result<number[]> {
  const have = available.join(', ');
  if (wanted === undefined) return ok(available.map((_, i) => i));
  if (wanted.length === 0) return err(`features.bands is empty; choose one or more of ${have}`);
  const unknown = [...new Set(wanted.filter((b) => !available.includes(b)))];
  if (unknown.length > 0) {
    const names = unknown.map((b) => `'${b}'`).join(', ');
    return err(`unknown band${unknown.length > 1 ? 's' : ''} ${names} in features.bands; the cutouts have ${have}`);
  }
  const twice = wanted.find((b, i) => wanted.indexOf(b) !== i);
  if (twice !== undefined) return err(`band '${twice}' is listed twice in features.bands`);
  return ok(available.flatMap((b, i) => (wanted.includes(b) ? [i] : [])));
}

/** Feature maps of the given clusters as one contiguous block. */
export function gatherMaps(set: FeatureSet, idx: readonly number[]): Float32Array {
  const n = mapLength(set.index);
  const out = new Float32Array(idx.length * n);
  idx.forEach((i, k) => out.set(set.data.subarray(i * n, (i + 1) * n), k * n));
  return out;
}
