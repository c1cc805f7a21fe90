// make-cutouts: per cluster and band, a square cutout around the catalogue centre of fixed physical
// size (from z; default) or fixed angle, resampled to N x N pixels (north up, east left) and
// asinh-stretched per band, written as the cutout dataset of docs/formats.md. Reads a sky dataset
// (sim-sky or fetch-sdss output). Off-frame parts are filled from neighbouring frames when the
// dataset has them (edges: neighbours) or left masked (edges: mask: only the frame holding the
// centre); masked pixels are 0 and counted in maskedFraction.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import PQueue from 'p-queue';
import { bunzip2File } from '../src/astro/bz2.js';
import { readClusterCatalog } from '../src/astro/cluster-catalog.js';
import { accumulate, containsCentre, newAccumulator, overlaps, physicalSideDeg, stretchInto, type Accumulator, type CutoutGeometry } from '../src/astro/cutout.js';
import { CutoutWriter, type CutoutClusterEntry } from '../src/astro/cutout-dataset.js';
import { formatFitsError } from '../src/astro/fits-error.js';
import { parseFits } from '../src/astro/fits-structure.js';
import { resolveParams } from '../src/astro/params.js';
import { fieldKey } from '../src/astro/sdss-archive.js';
import { frameFromFits } from '../src/astro/sdss-frame.js';
import { listFrames, readFrameHeader, type FrameFile, type FrameHeaderInfo } from '../src/astro/sky-dataset.js';
import { defineStage } from '../src/stage/define.js';

const BandT = Type.Union([Type.Literal('u'), Type.Literal('g'), Type.Literal('r'), Type.Literal('i'), Type.Literal('z')]);

export const cutoutParams = Type.Object({
  size: Type.Integer({ default: 64, minimum: 4, maximum: 4096, description: 'output pixels per side' }),
  bands: Type.Array(BandT, { default: ['u', 'g', 'r', 'i', 'z'], minItems: 1, uniqueItems: true, description: 'bands, in channel order' }),
  mode: Type.Union([Type.Literal('physical'), Type.Literal('angle')], { default: 'physical', description: 'fixed physical size (from z) or fixed angle' }),
  sizeMpc: Type.Number({ default: 0.5, exclusiveMinimum: 0, description: 'side in proper Mpc (h = 0.7) for mode physical; keep sim.cellMpc equal' }),
  sizeArcmin: Type.Number({ default: 2, exclusiveMinimum: 0, description: 'side in arcmin for mode angle' }),
  edges: Type.Union([Type.Literal('neighbours'), Type.Literal('mask')], { default: 'neighbours', description: 'fill off-frame parts from neighbouring frames, or mask them' }),
  softening: Type.Object({
    u: Type.Optional(Type.Number({ default: 0.05, exclusiveMinimum: 0 })), g: Type.Optional(Type.Number({ default: 0.02, exclusiveMinimum: 0 })),
    r: Type.Optional(Type.Number({ default: 0.03, exclusiveMinimum: 0 })), i: Type.Optional(Type.Number({ default: 0.055, exclusiveMinimum: 0 })),
    z: Type.Optional(Type.Number({ default: 0.2, exclusiveMinimum: 0 })),
  }, { default: {}, description: 'asinh softening per band, nanomaggies per native pixel (about the sky noise)' }),
  norm: Type.Number({ default: 10, exclusiveMinimum: 0, description: 'value = asinh(flux / softening) / norm' }),
  maxMaskedFraction: Type.Number({ default: 0.5, minimum: 0, maximum: 1, description: 'drop clusters with more of their pixels masked than this' }),
  decoders: Type.Integer({ default: 2, minimum: 1, maximum: 16, description: 'frames decompressed at once' }),
});

const params = Type.Object({ cutout: Type.Optional(Type.Partial(cutoutParams)) });

interface Job {
  readonly cluster: number;
  readonly band: number;
}

export default defineStage({
  description: 'Fixed-size, asinh-stretched ugriz cutouts around each cluster, as one NHWC float32 dataset',
  params,
  async run(ctx) {
    const p = resolveParams(cutoutParams, ctx.params.cutout);
    const t0 = performance.now();
    const skyDir = ctx.deps[0] ?? resolve(ctx.projectDir, 'data/sky');
    const cat = await readClusterCatalog(join(skyDir, 'catalog.csv'));
    if (!cat.ok) throw new Error(cat.error);
    const clusters = cat.value;
    const n = p.size;
    const B = p.bands.length;
    const geo: CutoutGeometry[] = clusters.map((c) => ({
      ra: c.ra, dec: c.dec, n,
      sideDeg: p.mode === 'physical' ? physicalSideDeg(p.sizeMpc, c.z) : p.sizeArcmin / 60,
    }));

    // 1. Frames and their WCS (headers only).
    const frames = (await listFrames(skyDir)).filter((f) => (p.bands as string[]).includes(f.band));
    if (frames.length === 0) throw new Error(`${join(skyDir, 'frames')}: no frame-*.fits.bz2 files for bands ${p.bands.join(',')}`);
    const headerQueue = new PQueue({ concurrency: 4 });
    const headers = await Promise.all(frames.map((f) => headerQueue.add(async () => {
      const h = await readFrameHeader(f.path);
      if (!h.ok) throw new Error(formatFitsError(h.error));
      return h.value;
    }))) as FrameHeaderInfo[];

    // 2. Plan: which frames feed which (cluster, band). With edges = mask, only the field whose
    //    frame holds the centre (the first such field in archive order) contributes.
    const home = new Map<number, string>();
    if (p.edges === 'mask') {
      frames.forEach((f, k) => {
        const h = headers[k]!;
        geo.forEach((g, c) => {
          if (!home.has(c) && containsCentre(g, h.wcs, h.width, h.height)) home.set(c, fieldKey(f));
        });
      });
    }
    const plan: Job[][] = frames.map(() => []);
    const pending = new Int32Array(clusters.length * B);
    frames.forEach((f, k) => {
      const h = headers[k]!;
      const b = (p.bands as string[]).indexOf(f.band);
      geo.forEach((g, c) => {
        if (p.edges === 'mask' && home.get(c) !== fieldKey(f)) return;
        if (!overlaps(g, h.wcs, h.width, h.height)) return;
        plan[k]!.push({ cluster: c, band: b });
        pending[c * B + b]!++;
      });
    });

    // 3. Decompress the frames that matter (bzip2 processes in parallel) and accumulate. A
    //    (cluster, band) is stretched as soon as its last frame is in, and a cluster is written as
    //    soon as its last band is: memory holds only the cutouts still open.
    await mkdir(ctx.outDir, { recursive: true });
    const per = n * n * B;
    const writer = await CutoutWriter.open(ctx.outDir, clusters.length, per);
    const writes: Promise<void>[] = [];
    const empty = new Float64Array(clusters.length);
    const open = new Map<number, Accumulator>();
    const images = new Map<number, Float32Array>();
    const bandsLeft = new Int32Array(clusters.length).fill(B);
    const softening = p.bands.map((b) => p.softening[b]);
    const finish = (c: number, b: number) => {
      const key = c * B + b;
      const acc = open.get(key) ?? newAccumulator(n);
      let img = images.get(c);
      if (!img) images.set(c, (img = new Float32Array(per)));
      empty[c]! += stretchInto(acc, img, b, B, softening[b]!, p.norm);
      open.delete(key);
      if (--bandsLeft[c]! === 0) {
        images.delete(c);
        writes.push(writer.put(c, img));
      }
    };
    // Cutouts no frame touches are finished (fully masked) right away.
    for (let c = 0; c < clusters.length; c++) for (let b = 0; b < B; b++) if (pending[c * B + b] === 0) finish(c, b);
    const needed = frames.map((f, k) => ({ f, k })).filter(({ k }) => plan[k]!.length > 0);
    const decodeQueue = new PQueue({ concurrency: p.decoders });
    let done = 0;
    const process = async (f: FrameFile, k: number) => {
      if (ctx.signal.aborted) throw new Error('make-cutouts aborted');
      const raw = await bunzip2File(f.path);
      if (!raw.ok) throw new Error(formatFitsError(raw.error));
      const parsed = parseFits(raw.value, f.path);
      if (!parsed.ok) throw new Error(formatFitsError(parsed.error));
      const frame = frameFromFits(parsed.value);
      if (!frame.ok) throw new Error(formatFitsError(frame.error));
      const fr = frame.value;
      for (const job of plan[k]!) {
        const key = job.cluster * B + job.band;
        let acc = open.get(key);
        if (!acc) open.set(key, (acc = newAccumulator(n)));
        accumulate(acc, geo[job.cluster]!, fr.wcs, fr.image, fr.width, fr.height);
        if (--pending[key]! === 0) finish(job.cluster, job.band);
      }
      ctx.progress(++done, needed.length);
    };
    await Promise.all(needed.map(({ f, k }) => decodeQueue.add(() => process(f, k))));
    await Promise.all(writes);

    // 4. Keep the clusters with enough data; write the data file and the index.
    const keep: number[] = [];
    const entries: CutoutClusterEntry[] = [];
    clusters.forEach((c, i) => {
      const maskedFraction = empty[i]! / per;
      if (maskedFraction > p.maxMaskedFraction) return;
      keep.push(i);
      entries.push({ id: c.id, ra: c.ra, dec: c.dec, z: c.z, logM500: c.logM500, richness: c.richness, maskedFraction: Number(maskedFraction.toFixed(5)), membersTrue: c.membersTrue });
    });
    await writer.close(keep, {
      size: n, bands: p.bands, clusters: entries,
      cutout: {
        mode: p.mode, ...(p.mode === 'physical' ? { sizeMpc: p.sizeMpc } : { sizeArcmin: p.sizeArcmin }), edges: p.edges,
        stretch: 'asinh(flux / softening[band]) / norm, flux in nanomaggies per native pixel', softening: p.softening, norm: p.norm,
        orientation: 'row 0 is north, column 0 is east', maskedValue: 0,
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    ctx.metric('cutouts.count', keep.length);
    ctx.metric('cutouts.dropped', clusters.length - keep.length);
    ctx.metric('cutouts.frames_read', needed.length);
    ctx.metric('cutouts.seconds', seconds);
    ctx.metric('cutouts.per_second', keep.length / seconds);
    ctx.log(`${keep.length} cutouts (${clusters.length - keep.length} dropped, masked > ${p.maxMaskedFraction}) from ${needed.length} frames in ${seconds.toFixed(1)} s`);
  },
});
