// fetch-sdss: the real-data source. For each cluster of a catalogue, find the SDSS DR12 fields
// that overlap its cutout footprint, download their frames (all requested bands) from the archive
// into a content-addressed store, and lay them out as a sky dataset: the same shape sim-sky writes
// (frames/301/<run>/<camcol>/frame-*.fits.bz2 + catalog.csv), so make-cutouts reads either.
// Downloads: bounded concurrency, retries with backoff, resume of partial files, validation before
// a file enters the store; a rerun finds everything in the store and downloads nothing.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import PQueue from 'p-queue';
import { formatClusterCatalog, readClusterCatalog, type ClusterRow } from '../src/astro/cluster-catalog.js';
import { mpcToDeg } from '../src/astro/cosmology.js';
import { download, DownloadError, type DownloadOptions } from '../src/astro/fetch/download.js';
import { ObjectStore } from '../src/astro/fetch/store.js';
import { validateFitsTable, validateFrame } from '../src/astro/fetch/validate.js';
import { readFitsFile } from '../src/astro/fits-file.js';
import { formatFitsError } from '../src/astro/fits-error.js';
import { resolveParams } from '../src/astro/params.js';
import {
  DR12_FRAMES_URL, DR12_PHOTOOBJ_URL, DR12_SKYSERVER_SQL, fieldKey, fieldsCovering, fieldsFromTable, frameRelPath,
  parseSkyServerCsv, photoFieldRelPath, skyServerFieldQuery, type Band, type FieldBox,
} from '../src/astro/sdss-archive.js';
import { defineStage } from '../src/stage/define.js';

const BandT = Type.Union([Type.Literal('u'), Type.Literal('g'), Type.Literal('r'), Type.Literal('i'), Type.Literal('z')]);

export const fetchParams = Type.Object({
  catalog: Type.String({ default: 'data/catalog/labelled.csv', description: 'cluster catalogue CSV (docs/formats.md), relative to the project' }),
  maxClusters: Type.Integer({ default: 0, minimum: 0, description: 'fetch only the first N clusters of the catalogue (0: all)' }),
  bands: Type.Array(BandT, { default: ['u', 'g', 'r', 'i', 'z'], minItems: 1, uniqueItems: true }),
  coverMpc: Type.Number({ default: 0.5, exclusiveMinimum: 0, description: 'side (Mpc) of the footprint to cover around each centre; keep >= cutout.sizeMpc' }),
  baseUrl: Type.String({ default: DR12_FRAMES_URL, description: 'root of the frames tree (…/photoObj/frames/)' }),
  photoObjUrl: Type.String({ default: DR12_PHOTOOBJ_URL, description: 'root of the photoObj tree holding photoField files' }),
  resolver: Type.Union([Type.Literal('skyserver'), Type.Literal('photoField')], { default: 'skyserver', description: 'find fields by SkyServer SQL (needs network) or from photoField tables' }),
  skyServerUrl: Type.String({ default: DR12_SKYSERVER_SQL }),
  photoFields: Type.Array(Type.String({ pattern: '^\\d+/[1-6]$' }), { default: [], description: 'run/camcol pairs whose photoField tables list the candidate fields (resolver photoField)' }),
  store: Type.String({ default: 'data/sdss-store', description: 'content-addressed download store (kept between runs; not a stage output)' }),
  concurrency: Type.Integer({ default: 4, minimum: 1, maximum: 32, description: 'downloads in flight' }),
  retries: Type.Integer({ default: 5, minimum: 0, description: 'retries per file after the first attempt' }),
  backoffMs: Type.Integer({ default: 1000, minimum: 0, description: 'first retry delay; doubles per attempt' }),
  stallMs: Type.Integer({ default: 60000, minimum: 100, description: 'give up an attempt when no data arrives for this long' }),
  maxFailures: Type.Integer({ default: 0, minimum: 0, description: 'files that may fail for good before the stage fails (their clusters are dropped)' }),
});

const params = Type.Object({ fetch: Type.Optional(Type.Partial(fetchParams)) });

// SkyServer answers are stored like files, keyed by the query, so a rerun asks nothing.
const sqlKey = (sql: string) => `skyserver/${createHash('sha256').update(sql).digest('hex')}.csv`;

export default defineStage({
  description: 'Download the SDSS DR12 frames covering each catalogue cluster into a sky dataset',
  params,
  async run(ctx) {
    const p = resolveParams(fetchParams, ctx.params.fetch);
    const abs = (f: string) => (isAbsolute(f) ? f : resolve(ctx.projectDir, f));
    const store = new ObjectStore(abs(p.store));
    const cat = await readClusterCatalog(abs(p.catalog));
    if (!cat.ok) throw new Error(cat.error);
    const clusters = p.maxClusters > 0 ? cat.value.slice(0, p.maxClusters) : cat.value;
    const opts: DownloadOptions = {
      retries: p.retries, backoffMs: p.backoffMs, stallMs: p.stallMs, signal: ctx.signal,
      onRetry: (url, n, reason) => { retries++; ctx.log(`retry ${n} of ${url}: ${reason}`); },
    };
    let retries = 0;
    const queue = new PQueue({ concurrency: p.concurrency });
    const join_ = (root: string, rel: string) => new URL(rel, root.endsWith('/') ? root : `${root}/`).toString();

    // 1. Which fields overlap each cluster's footprint.
    const marginDeg = (c: ClusterRow) => mpcToDeg(p.coverMpc / 2, c.z);
    const covering = new Map<string, FieldBox[]>();
    if (p.resolver === 'photoField') {
      if (p.photoFields.length === 0) throw new Error('fetch.resolver is photoField but fetch.photoFields lists no run/camcol');
      const boxes: FieldBox[] = [];
      for (const rc of p.photoFields) {
        const [run, camcol] = rc.split('/').map(Number) as [number, number];
        const rel = photoFieldRelPath(run, camcol);
        const url = join_(p.photoObjUrl, rel);
        const got = await download(url, `photoObj/${rel}`, store, (f) => validateFitsTable(f, url), opts);
        const f = await readFitsFile(store.objectPath(got.ref.sha256));
        if (!f.ok) throw new Error(formatFitsError({ ...f.error, file: url }));
        const b = fieldsFromTable(f.value);
        if (!b.ok) throw new Error(formatFitsError({ ...b.error, file: url }));
        boxes.push(...b.value);
      }
      for (const c of clusters) covering.set(c.id, fieldsCovering(boxes, c.ra, c.dec, marginDeg(c)));
    } else {
      await Promise.all(clusters.map((c) => queue.add(async () => {
        const sql = skyServerFieldQuery(c.ra, c.dec, marginDeg(c));
        const url = `${p.skyServerUrl}?cmd=${encodeURIComponent(sql)}&format=csv`;
        const got = await download(url, sqlKey(sql), store, async (f) => {
          const r = parseSkyServerCsv(await readFile(f, 'utf8'), url);
          return r.ok ? null : r.error.message;
        }, opts);
        const r = parseSkyServerCsv(await readFile(store.objectPath(got.ref.sha256), 'utf8'), url);
        if (!r.ok) throw new Error(r.error.message);
        covering.set(c.id, fieldsCovering(r.value, c.ra, c.dec, marginDeg(c)));
      })));
    }

    // 2. Every frame of every covering field, once.
    const frames = new Map<string, { band: Band; field: FieldBox }>();
    for (const c of clusters) for (const f of covering.get(c.id) ?? []) for (const band of p.bands) frames.set(frameRelPath(band, f), { band, field: f });
    ctx.log(`${clusters.length} clusters, ${clusters.filter((c) => (covering.get(c.id) ?? []).length > 0).length} covered, ${frames.size} frames to have`);
    let done = 0;
    let downloaded = 0;
    let reused = 0;
    let bytes = 0;
    const failed = new Map<string, string>();
    await Promise.all([...frames.keys()].map((rel) => queue.add(async () => {
      const url = join_(p.baseUrl, rel);
      try {
        const got = await download(url, `frames/${rel}`, store, (f) => validateFrame(f, url), opts);
        await store.materialize(got.ref, join(ctx.outDir, 'frames', rel));
        if (got.reused) reused++; else downloaded++;
        bytes += got.bytes;
      } catch (e) {
        if (!(e instanceof DownloadError)) throw e;
        failed.set(rel, e.message);
        ctx.log(`failed: ${e.message}`);
      }
      ctx.progress(++done, frames.size);
    })));

    // 3. The sky dataset's catalogue: clusters whose every covering field has every band.
    const ok: ClusterRow[] = [];
    const dropped: string[] = [];
    for (const c of clusters) {
      const fields = covering.get(c.id) ?? [];
      const complete = fields.length > 0 && fields.every((f) => p.bands.every((b) => !failed.has(frameRelPath(b, f))));
      if (complete) ok.push({ ...c, extra: { ...c.extra, fields: fields.map(fieldKey).join(';') } });
      else dropped.push(`${c.id},${fields.length === 0 ? 'no SDSS field covers it' : 'a frame failed to download'}`);
    }
    await mkdir(ctx.outDir, { recursive: true });
    const extras = [...new Set(ok.flatMap((c) => Object.keys(c.extra)))];
    await writeFile(join(ctx.outDir, 'catalog.csv'), formatClusterCatalog(ok, extras));
    await writeFile(join(ctx.outDir, 'dropped.csv'), `id,reason\n${dropped.map((d) => `${d}\n`).join('')}`);
    await writeFile(join(ctx.outDir, 'fetch.json'), JSON.stringify({
      clusters: clusters.length, kept: ok.length, frames: frames.size, downloaded, reused, bytes, retries,
      failed: Object.fromEntries(failed),
    }, null, 2) + '\n');
    ctx.metric('fetch.clusters', ok.length);
    ctx.metric('fetch.dropped', dropped.length);
    ctx.metric('fetch.frames', frames.size);
    ctx.metric('fetch.downloaded', downloaded);
    ctx.metric('fetch.reused', reused);
    ctx.metric('fetch.bytes', bytes);
    ctx.metric('fetch.retries', retries);
    ctx.metric('fetch.failed', failed.size);
    if (failed.size > p.maxFailures) {
      const list = [...failed.values()].slice(0, 10).map((m) => `  ${m}`).join('\n');
      throw new Error(`fetch-sdss: ${failed.size} file(s) could not be downloaded (fetch.maxFailures = ${p.maxFailures}):\n${list}`);
    }
    ctx.log(`kept ${ok.length} clusters; ${downloaded} frames downloaded, ${reused} from the store, ${retries} retries`);
  },
});
