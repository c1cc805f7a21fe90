// Objects named without an fsync each (cache/write-back.ts): the boot marker is on disk before the
// first such object, a store opened under another boot id hashes what was written since and removes
// what a crash tore (and only that), and the fsync path stays where there is no boot id or the
// user asks for it. A crash is played by tearing an object and opening the store as another boot.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { open as fsOpen } from 'node:fs/promises';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectStore } from '../../src/cache/store.js';
import { MARKER_REFRESH_MS, readBootId, WriteBack } from '../../src/cache/write-back.js';
import { StatCache } from '../../src/cache/digest-path.js';
import { pullEntries } from '../../src/remote/pull.js';
import { pushEntries } from '../../src/remote/push.js';
import { MemoryRemote } from '../../src/remote/fake.js';
import { EntryStore, type CacheEntry } from '../../src/cache/entries.js';
import { sha256 } from '../../src/cache/canonical.js';
import { asDigest, asRunId, asStageId } from '../../src/core/brand.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const open = (boot: string | undefined, env: NodeJS.ProcessEnv = {}) => {
  const root = join(dir, 'cache');
  return new ObjectStore(root, new WriteBack(root, join(root, 'objects'), { boot, env }));
};
const markers = () => (existsSync(join(dir, 'cache', 'unsynced')) ? readdirSync(join(dir, 'cache', 'unsynced')) : []);
const since = (boot: string) => (JSON.parse(readFileSync(join(dir, 'cache', 'unsynced', boot), 'utf8')) as { since: number }).since;

describe('objects written without an fsync each', () => {
  it('puts the boot marker on disk before the first object, then a store of another boot removes exactly the torn objects', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mf-writeback-'));
    const a = open('boot-a');
    expect(a.durable).toBe(false);
    expect(markers()).toEqual([]);
    const before = Date.now();
    const kept = await a.putBytes('kept object');
    expect(markers()).toEqual(['boot-a']);
    expect(since('boot-a')).toBeGreaterThanOrEqual(before);
    const src = join(dir, 'big.bin');
    writeFileSync(src, Buffer.alloc(3 << 20, 7));
    const torn = (await a.putFile(src)).digest;
    const zeroed = await a.putBytes('zeroed by the crash');

    // The crash: one object lost its tail, another its bytes (delayed allocation leaves zeros).
    for (const d of [torn, zeroed]) chmodSync(a.objectPath(d), 0o644);
    truncateSync(a.objectPath(torn), 1 << 20);
    writeFileSync(a.objectPath(zeroed), Buffer.alloc(19));

    // The same boot trusts what it wrote: the page cache held it all along.
    expect(open('boot-a').crashCheck).toBeUndefined();
    const marked = since('boot-a');
    const b = open('boot-b');
    expect(b.crashCheck).toMatchObject({ since: marked, checked: 3 });
    expect([...b.crashCheck!.removed].sort()).toEqual([torn, zeroed].sort());
    expect(await b.has(kept)).toBe(true);
    expect(await b.has(torn)).toBe(false);
    expect(await b.has(zeroed)).toBe(false);
    expect(markers()).toEqual([]);
    // Checked once: the next open has nothing to do.
    expect(open('boot-b').crashCheck).toBeUndefined();
  });

  it('never serves what it could not check or remove, and keeps the marker for the next command', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mf-writeback-'));
    const a = open('boot-a');
    const good = await a.putBytes('intact');
    // Something at an object's name that cannot be read as a file (root can remove anything, so an
    // unreadable entry is how a test gets one that stays).
    const odd = asDigest('0'.repeat(64));
    mkdirSync(a.objectPath(odd), { recursive: true });
    const b = open('boot-b');
    expect(b.crashCheck).toMatchObject({ checked: 2, removed: [], unremovable: [{ digest: odd, why: 'unreadable: EISDIR' }] });
    expect(await b.has(odd)).toBe(false);
    expect(await b.has(good)).toBe(true);
    expect(markers()).toEqual(['boot-a']);
    // Once it is gone, the next command finishes the check and drops the marker.
    rmSync(a.objectPath(odd), { recursive: true });
    expect(open('boot-b').crashCheck).toMatchObject({ checked: 1, removed: [], unremovable: [] });
    expect(markers()).toEqual([]);
  });

  it('checks only objects written since the marker', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mf-writeback-'));
    const a = open('boot-a');
    const old = await a.putBytes('written before the marker moved');
    // The marker moved forward (as a refresh after `sync -f` does): what came before it is on disk.
    const marker = join(dir, 'cache', 'unsynced', 'boot-a');
    writeFileSync(marker, JSON.stringify({ since: Date.now() + 60_000 }));
    expect(open('boot-b').crashCheck).toEqual({ since: expect.any(Number), checked: 0, removed: [], unremovable: [] });
    expect(await open('boot-b').has(old)).toBe(true);
  });

  it('checks every object when a marker is unreadable', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mf-writeback-'));
    const a = open('boot-a');
    await a.putBytes('one');
    await a.putBytes('two');
    writeFileSync(join(dir, 'cache', 'unsynced', 'boot-a'), '{"since');
    expect(open('boot-b').crashCheck).toMatchObject({ since: 0, checked: 2, removed: [] });
  });

  it('moves a marker older than the refresh age forward after sync -f, and leaves a fresh one alone', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mf-writeback-'));
    await open('boot-a').putBytes('first');
    const first = since('boot-a');
    await open('boot-a').putBytes('second');
    expect(since('boot-a')).toBe(first);
    const old = Date.now() - MARKER_REFRESH_MS - 1_000;
    writeFileSync(join(dir, 'cache', 'unsynced', 'boot-a'), JSON.stringify({ since: old }));
    const before = Date.now();
    await open('boot-a').putBytes('third');
    expect(since('boot-a')).toBeGreaterThanOrEqual(before);
  });

  it('fsyncs each object, with no marker, where there is no boot id or MASSFLOW_CACHE_FSYNC=1', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mf-writeback-'));
    for (const store of [open(undefined), open('boot-a', { MASSFLOW_CACHE_FSYNC: '1' })]) {
      expect(store.durable).toBe(true);
      const d = await store.putBytes(`durable ${store.durable}`);
      expect(await store.has(d)).toBe(true);
    }
    expect(markers()).toEqual([]);
    // A marker another boot left is still checked by a durable store (both objects: the durable
    // one was written within the clock slack before the marker).
    await open('boot-a').putBytes('unsynced');
    expect(markers()).toEqual(['boot-a']);
    expect(open(undefined).crashCheck).toMatchObject({ checked: 2, removed: [] });
  });

  it('reads this machine\'s boot id, and nothing from a file that is not one', () => {
    dir = mkdtempSync(join(tmpdir(), 'mf-writeback-'));
    if (process.platform === 'linux') expect(readBootId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    writeFileSync(join(dir, 'junk'), 'not a boot id\n');
    expect(readBootId(join(dir, 'junk'))).toBeUndefined();
    expect(readBootId(join(dir, 'absent'))).toBeUndefined();
  });

  it('pulls without fsyncing, under the marker, and a crash-torn pulled object is removed on the next boot', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mf-writeback-'));
    mkdirSync(join(dir, 'w'));
    const file = join(dir, 'w', 'out.bin');
    // Larger than the sink's background-flush step, so a flush would have happened.
    writeFileSync(file, Buffer.alloc(9 << 20, 3));
    const root = (name: string, boot: string | undefined) => new ObjectStore(join(dir, name), new WriteBack(join(dir, name), join(dir, name, 'objects'), { boot, env: {} }));
    const pusher = root('pusher', undefined);
    const stored = (await pusher.putOutput(file, await new StatCache(join(dir, 'stat')).digest(file)))!;
    const entry: CacheEntry = { format: 1, fingerprint: sha256('fp'), stage: asStageId('make'), outs: { 'data/out.bin': stored }, runId: asRunId('20261207-000000-000000'), createdAt: '', durationMs: 1 };
    const remote = new MemoryRemote();
    expect(await pushEntries(pusher, remote, [entry], 4)).toMatchObject({ entries: { pushed: 1 } });

    const puller = root('puller', 'boot-a');
    const handle = await fsOpen(file, 'r');
    const proto = Object.getPrototypeOf(handle) as { sync: () => Promise<void>; datasync: () => Promise<void> };
    await handle.close();
    const sync = vi.spyOn(proto, 'sync');
    const datasync = vi.spyOn(proto, 'datasync');
    try {
      const target = { fingerprint: entry.fingerprint, stage: entry.stage, outs: ['data/out.bin'] };
      const r = await pullEntries(puller, new EntryStore(join(dir, 'puller'), puller), remote, [target], 4);
      expect(r).toMatchObject({ entries: { pulled: 1 }, objects: { downloaded: 1 }, corrupt: [] });
      // One fsync: the entry's, written last. The 9 MiB object had none, and no background flush.
      expect(sync).toHaveBeenCalledTimes(1);
      expect(datasync).not.toHaveBeenCalled();
    } finally { sync.mockRestore(); datasync.mockRestore(); }
    expect(readdirSync(join(dir, 'puller', 'unsynced'))).toEqual(['boot-a']);

    const path = puller.objectPath(stored.digest);
    chmodSync(path, 0o644);
    truncateSync(path, 0);
    const after = root('puller', 'boot-b');
    expect(after.crashCheck).toMatchObject({ checked: 1, removed: [stored.digest] });
    expect(await new EntryStore(join(dir, 'puller'), after).getComplete(entry.fingerprint)).toBeUndefined();
  });
});
