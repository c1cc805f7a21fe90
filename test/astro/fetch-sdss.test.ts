import { createHash } from 'node:crypto';
import { readdir, readFile, rm, mkdtemp, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fetchSdss from '../../stages/fetch-sdss.js';
import simSky from '../../stages/sim-sky.js';
import { readClusterCatalog, formatClusterCatalog, type ClusterRow } from '../../src/astro/cluster-catalog.js';
import { validateFrame } from '../../src/astro/fetch/validate.js';
import { frameRelPath, photoFieldRelPath } from '../../src/astro/sdss-archive.js';
import { runStageInProcess } from '../../src/stage/testing.js';
import { startArchiveServer, type ArchiveServer } from './archive-server.js';
import { FRAMES_ROOT, haveSharedData } from './shared-data.js';

const FRAMES = '/sas/dr12/boss/photoObj/frames/';
const PHOTOOBJ = '/sas/dr12/boss/photoObj/';
let dir: string;
let server: ArchiveServer;
let simRows: ClusterRow[];
const realRow: ClusterRow = { id: 'real-136', ra: 323.343, dec: -0.70, z: 0.3, logM500: null, richness: null, membersTrue: null, extra: {} };
const simField = { run: 9901, camcol: 1, field: 11 };
const realField = { run: 2583, camcol: 2, field: 136 };
const sha = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'astro-fetch-'));
  await runStageInProcess(simSky, { projectDir: dir, params: { sim: { clusters: 4, seed: 3, bands: ['g', 'r'], floorDraws: 2000 } }, outs: ['sim'] });
  const c = await readClusterCatalog(join(dir, 'sim/catalog.csv'));
  if (!c.ok) throw new Error(c.error);
  simRows = c.value;
  server = await startArchiveServer({
    [FRAMES]: [join(dir, 'sim/frames'), FRAMES_ROOT],
    [PHOTOOBJ]: [join(dir, 'sim/photoObj'), FRAMES_ROOT],
  });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function writeCatalog(name: string, rows: ClusterRow[]): Promise<string> {
  await writeFile(join(dir, name), formatClusterCatalog(rows));
  return name;
}

const fetchParams = (catalog: string, extra: Record<string, unknown> = {}) => ({
  fetch: {
    catalog, bands: ['g', 'r'], resolver: 'photoField', photoFields: ['9901/1', '2583/2'],
    baseUrl: `${server.url}${FRAMES}`, photoObjUrl: `${server.url}${PHOTOOBJ}`, store: 'store',
    retries: 4, backoffMs: 5, stallMs: 1500, concurrency: 3, ...extra,
  },
});

const simFrame = (b: 'g' | 'r') => `${FRAMES}${frameRelPath(b, simField)}`;
const realFrame = (b: 'g' | 'r') => `${FRAMES}${frameRelPath(b, realField)}`;

describe.skipIf(!haveSharedData)('fetch-sdss against a local archive', () => {
  it('survives 500s, cut bodies, stalls and garbage: every frame arrives whole, resumed where it broke', async () => {
    const catalog = await writeCatalog('cat.csv', [...simRows, realRow]);
    server.faults.set(simFrame('g'), ['500', 'truncate']);
    server.faults.set(simFrame('r'), ['stall']);
    server.faults.set(realFrame('r'), ['truncate', 'truncate']);
    server.faults.set(realFrame('g'), ['garbage']);
    server.faults.set(`${PHOTOOBJ}${photoFieldRelPath(2583, 2)}`, ['500']);
    const rec = await runStageInProcess(fetchSdss, { projectDir: dir, params: fetchParams(catalog), outs: ['data/sky'] });
    const metric = (k: string) => rec.metrics.find((m) => m.key === k)?.value;
    expect(metric('fetch.frames')).toBe(4);
    expect(metric('fetch.downloaded')).toBe(4);
    expect(metric('fetch.failed')).toBe(0);
    // One retry per injected fault (7); a machine slowed down by other work may add stall retries.
    expect(metric('fetch.retries')).toBeGreaterThanOrEqual(7);
    expect(rec.logs.some((l) => l.includes('stalled: no data for 1500 ms') && l.includes(simFrame('r')))).toBe(true);
    expect(rec.logs.some((l) => l.includes('invalid file') && l.includes(realFrame('g')))).toBe(true);
    // A cut body is resumed with a Range request from where it stopped, not fetched again.
    expect(server.ranges.get(realFrame('r'))![1]).toMatch(/^bytes=\d+-$/);
    expect(server.ranges.get(realFrame('r'))![2]).toMatch(/^bytes=\d+-$/);
    // The frames are byte-identical to the archive's.
    expect(await sha(join(dir, 'data/sky/frames', frameRelPath('r', realField)))).toBe(await sha(join(FRAMES_ROOT, frameRelPath('r', realField))));
    expect(await sha(join(dir, 'data/sky/frames', frameRelPath('g', simField)))).toBe(await sha(join(dir, 'sim/frames', frameRelPath('g', simField))));
    const out = await readClusterCatalog(join(dir, 'data/sky/catalog.csv'));
    if (!out.ok) throw new Error(out.error);
    expect(out.value.map((c) => c.id).sort()).toEqual([...simRows.map((c) => c.id), 'real-136'].sort());
    expect(out.value.find((c) => c.id === 'real-136')!.extra.fields).toBe('301/2583/2/136');
  }, 120_000);

  it('never stores a corrupt file: every object validates and is named by its hash', async () => {
    const objects = join(dir, 'store/objects');
    for (const sub of await readdir(objects)) {
      for (const name of await readdir(join(objects, sub))) {
        const p = join(objects, sub, name);
        expect(await sha(p)).toBe(name);
        const bytes = await readFile(p);
        if (bytes[0] === 0x42 && bytes[1] === 0x5a) expect(await validateFrame(p, name)).toBeNull(); // "BZ": a frame
      }
    }
    expect(await readdir(join(dir, 'store/partial'))).toEqual([]);
  });

  it('a rerun downloads nothing', async () => {
    server.hits.clear();
    const rec = await runStageInProcess(fetchSdss, { projectDir: dir, params: fetchParams('cat.csv'), outs: ['data/sky2'] });
    expect(rec.metrics.find((m) => m.key === 'fetch.reused')?.value).toBe(4);
    expect(rec.metrics.find((m) => m.key === 'fetch.downloaded')?.value).toBe(0);
    expect([...server.hits.keys()]).toEqual([]);
    expect(existsSync(join(dir, 'data/sky2/frames', frameRelPath('g', realField)))).toBe(true);
  }, 60_000);

  it('a missing frame is a clear error naming it; with maxFailures its cluster is dropped instead', async () => {
    // Field 137 is listed in the photoField but the archive here does not have its frames.
    const neighbour = { ...realRow, id: 'real-137', ra: 323.5, dec: -0.70 };
    const catalog = await writeCatalog('cat137.csv', [neighbour]);
    const err = await runStageInProcess(fetchSdss, { projectDir: dir, params: fetchParams(catalog), outs: ['data/sky3'] }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`${server.url}${FRAMES}301/2583/2/frame-g-002583-2-0137.fits.bz2: HTTP 404`);
    const rec = await runStageInProcess(fetchSdss, { projectDir: dir, params: fetchParams(catalog, { maxFailures: 10 }), outs: ['data/sky4'] });
    expect(rec.metrics.find((m) => m.key === 'fetch.dropped')?.value).toBe(1);
    expect(await readFile(join(dir, 'data/sky4/dropped.csv'), 'utf8')).toContain('real-137,a frame failed to download');
  }, 60_000);

  it('a file that stays corrupt fails after the retries, naming it, and leaves nothing in the store', async () => {
    const bad = simRows[0]!;
    await rm(join(dir, 'store2'), { recursive: true, force: true });
    server.faults.set(simFrame('g'), Array(10).fill('garbage'));
    const catalog = await writeCatalog('catbad.csv', [bad]);
    const err = await runStageInProcess(fetchSdss, { projectDir: dir, params: fetchParams(catalog, { store: 'store2', retries: 2 }), outs: ['data/sky5'] }).catch((e: Error) => e);
    server.faults.delete(simFrame('g'));
    expect((err as Error).message).toMatch(new RegExp(`${simFrame('g').replace(/[.]/g, '\\.')}: invalid file: .*bzip2 stream is corrupt or truncated.*\\(after 3 attempts\\)`));
    expect(existsSync(join(dir, 'store2/refs/frames', frameRelPath('g', simField)))).toBe(false);
    expect(existsSync(join(dir, 'store2/refs/frames', frameRelPath('r', simField)))).toBe(true);
  }, 60_000);
});
