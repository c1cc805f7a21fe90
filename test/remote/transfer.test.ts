// Push and pull against the in-memory remote: only missing objects move, every pulled object is
// verified, a push cut off midway leaves no entry without its objects, remote entries are checked.
import { chmodSync, closeSync, mkdtempSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StatCache } from '../../src/cache/digest-path.js';
import { EntryStore, type CacheEntry } from '../../src/cache/entries.js';
import { ObjectStore } from '../../src/cache/store.js';
import { asRunId, asStageId } from '../../src/core/brand.js';
import { sha256 } from '../../src/cache/canonical.js';
import { chooseRemote } from '../../src/remote/config.js';
import { MemoryRemote } from '../../src/remote/fake.js';
import { pullEntries, validEntry, type PullTarget } from '../../src/remote/pull.js';
import { pushEntries } from '../../src/remote/push.js';
import { entryKey, objectKey } from '../../src/remote/store.js';
import { BUNDLE_MEMBER_MAX, bundleKey } from '../../src/remote/bundle.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function cache() {
  const root = mkdtempSync(join(tmpdir(), 'massflow-remote-'));
  dirs.push(root);
  const objects = new ObjectStore(join(root, 'cache'));
  return { root, objects, entries: new EntryStore(join(root, 'cache'), objects), stat: new StatCache(join(root, 'stat')) };
}

/** A committed stage output: a directory of `files` small files (and `big` files too large to bundle), and its entry. */
async function made(c: ReturnType<typeof cache>, files: number, tag = 'a', big = 0): Promise<{ entry: CacheEntry; target: PullTarget }> {
  const dir = join(c.root, 'ws', 'out');
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < files; i++) writeFileSync(join(dir, `f${i}`), `${tag} ${i}\n`);
  for (let i = 0; i < big; i++) writeFileSync(join(dir, `big${i}`), Buffer.alloc(BUNDLE_MEMBER_MAX + 1, i + 1));
  const stored = (await c.objects.putOutput(dir, await c.stat.digest(dir)))!;
  const fingerprint = sha256(`fp-${tag}`);
  const entry: CacheEntry = { format: 1, fingerprint, stage: asStageId('make'), outs: { 'data/out': stored }, runId: asRunId('20261207-000000-000000'), createdAt: '', durationMs: 1 };
  await c.entries.put(entry);
  return { entry, target: { fingerprint, stage: asStageId('make'), outs: ['data/out'] } };
}

/** The one bundle part of a pushed directory entry. */
const partKey = (entry: CacheEntry) => bundleKey(entry.outs['data/out']!.digest, 0);

describe('push and pull', () => {
  it('moves only what the other side lacks, small files in one bundle, and a second clone restores it all', async () => {
    const a = cache();
    const remote = new MemoryRemote();
    const { entry, target } = await made(a, 100, 'a', 1);
    const first = await pushEntries(a.objects, remote, [entry], 8);
    expect(first).toMatchObject({ entries: { pushed: 1, present: 0, failed: 0 }, objects: { uploaded: 102, present: 0 }, problems: [] });
    // One HEAD for the entry, three for the manifest, the bundle of 100 small files and the large
    // file; then those three uploads and the entry: 102 objects in 4 PUTs.
    expect(remote.calls).toEqual({ has: 4, list: 0, get: 0, put: 4 });
    expect([...remote.objects.keys()].filter((k) => k.startsWith('bundles/'))).toEqual([partKey(entry)]);
    // Nothing to send: the entry on the remote vouches for its objects, one HEAD in all.
    const again = await pushEntries(a.objects, remote, [entry], 8);
    expect(again).toMatchObject({ entries: { pushed: 0, present: 1 }, objects: { uploaded: 0 } });
    expect(remote.calls).toEqual({ has: 5, list: 0, get: 0, put: 4 });

    const b = cache();
    const pulled = await pullEntries(b.objects, b.entries, remote, [target], 8);
    expect(pulled).toMatchObject({ entries: { pulled: 1, local: 0, absent: 0, failed: 0 }, objects: { downloaded: 102 }, corrupt: [] });
    expect(remote.calls.get).toBe(4); // the entry, the manifest, the bundle, the large file
    expect(await b.entries.getComplete(entry.fingerprint)).toEqual(entry);
    expect(await pullEntries(b.objects, b.entries, remote, [target], 8)).toMatchObject({ entries: { pulled: 0, local: 1 }, objects: { downloaded: 0 } });
    expect(remote.calls.get).toBe(4);
  });

  it('lists the remote instead of a HEAD per object when many single objects are wanted', async () => {
    const a = cache();
    const remote = new MemoryRemote();
    const entries: CacheEntry[] = [];
    for (let i = 0; i < 70; i++) {
      writeFileSync(join(a.root, 'f'), `file ${i}\n`);
      const stored = (await a.objects.putOutput(join(a.root, 'f'), await a.stat.digest(join(a.root, 'f'))))!;
      entries.push({ format: 1, fingerprint: sha256(`fp-${i}`), stage: asStageId(`s${i}`), outs: { f: stored }, runId: asRunId('20261207-000000-000000'), createdAt: '', durationMs: 1 });
    }
    expect(await pushEntries(a.objects, remote, entries, 8)).toMatchObject({ entries: { pushed: 70 }, objects: { uploaded: 70 } });
    // 70 entry HEADs; the 70 objects: one shard listed to size the remote, then one listing.
    expect(remote.calls).toEqual({ has: 70, list: 2, get: 0, put: 140 });
  });

  it('refuses a bundle member that does not match its digest, names it, and writes no entry; a later pull after repair completes', async () => {
    const a = cache();
    const remote = new MemoryRemote();
    const { entry, target } = await made(a, 5);
    await pushEntries(a.objects, remote, [entry], 4);
    const manifest = await a.objects.readManifest(entry.outs['data/out']!.digest);
    const key = partKey(entry);
    const good = remote.objects.get(key)!;
    const bad = Buffer.from(good);
    const at = manifest.slice(0, 2).reduce((n, f) => n + f.size, 0);
    bad[at] = bad[at]! ^ 1; // one bit of the third file
    remote.objects.set(key, bad);

    const b = cache();
    const r = await pullEntries(b.objects, b.entries, remote, [target], 4);
    expect(r.corrupt).toEqual([key]);
    expect(r.entries).toMatchObject({ pulled: 0, failed: 1 });
    const gotHash = sha256(bad.subarray(at, at + manifest[2]!.size));
    expect(r.problems[0]!.message).toBe(`s3://fake/prefix/${key} (member ${manifest[2]!.digest.slice(0, 12)}) is corrupt or partial: ${manifest[2]!.size} bytes hashing to ${gotHash.slice(0, 12)}; refused`);
    expect(await b.objects.has(manifest[2]!.digest)).toBe(false);
    expect(await b.objects.has(manifest[3]!.digest)).toBe(true); // verified members are kept
    expect(await b.entries.get(entry.fingerprint)).toBeUndefined();

    // Truncated: the members past the cut are refused, naming the part.
    remote.objects.set(key, good.subarray(0, at));
    const c = cache();
    const cut = await pullEntries(c.objects, c.entries, remote, [target], 4);
    expect(cut.problems[0]!.message).toBe(`s3://fake/prefix/${key} is corrupt or partial: ${at} bytes where ${good.length} were expected; refused`);
    expect(await c.entries.get(entry.fingerprint)).toBeUndefined();

    remote.objects.set(key, good);
    const gets = remote.calls.get;
    expect(await pullEntries(b.objects, b.entries, remote, [target], 4)).toMatchObject({ entries: { pulled: 1 }, objects: { downloaded: 1 } });
    expect(remote.calls.get - gets).toBe(2); // the entry, then the part holding the one file still lacking
  });

  it('refuses to push a local object that no longer hashes to its name, small or streamed, and stores nothing under it', async () => {
    const a = cache();
    const remote = new MemoryRemote();
    const { entry } = await made(a, 0, 'a', 0);
    // One file held in memory for its upload, one streamed from disk (over 8 MiB).
    const dir = join(a.root, 'ws', 'two');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'small'), Buffer.alloc(2 << 20, 1));
    writeFileSync(join(dir, 'large'), Buffer.alloc(9 << 20, 2));
    const stored = (await a.objects.putOutput(dir, await a.stat.digest(dir)))!;
    const two: CacheEntry = { ...entry, fingerprint: sha256('fp-two'), outs: { 'data/out': stored } };
    const files = await a.objects.readManifest(stored.digest);
    for (const f of files) {
      const path = a.objects.objectPath(f.digest);
      chmodSync(path, 0o644);
      const fd = openSync(path, 'r+');
      writeSync(fd, Buffer.from([9]), 0, 1, 1 << 20); // one byte in the middle, same size
      closeSync(fd);
    }
    const r = await pushEntries(a.objects, remote, [two], 4);
    expect(r.entries).toMatchObject({ pushed: 0, failed: 1 });
    // Whichever upload failed first is named.
    const why = files.map((f) => {
      const now = readFileSync(a.objects.objectPath(f.digest));
      return `not pushed: 2 uploads did not complete (local object ${f.digest} is damaged (its ${now.length} bytes hash to ${sha256(now)}))`;
    });
    expect(why).toContain(r.problems[0]!.message);
    for (const f of files) expect(remote.objects.has(objectKey(f.digest))).toBe(false);
    expect(remote.objects.has(entryKey(two.fingerprint))).toBe(false);
  });

  it('refuses a large single object that arrives corrupt, keeping nothing of it', async () => {
    const a = cache();
    const remote = new MemoryRemote();
    const { entry, target } = await made(a, 0, 'a', 1);
    await pushEntries(a.objects, remote, [entry], 4);
    const big = (await a.objects.readManifest(entry.outs['data/out']!.digest))[0]!;
    const bad = Buffer.from(remote.objects.get(objectKey(big.digest))!);
    bad[1000] = bad[1000]! ^ 1;
    remote.objects.set(objectKey(big.digest), bad);
    const b = cache();
    const r = await pullEntries(b.objects, b.entries, remote, [target], 4);
    expect(r.corrupt).toEqual([objectKey(big.digest)]);
    expect(r.problems[0]!.message).toBe(`s3://fake/prefix/${objectKey(big.digest)} is corrupt or partial: ${bad.length} bytes hashing to ${sha256(bad).slice(0, 12)}; refused`);
    expect(await b.objects.has(big.digest)).toBe(false);
    expect(readdirSync(b.objects.tmpDir)).toEqual([]); // the temp file went too
    expect(await b.entries.get(entry.fingerprint)).toBeUndefined();
  });

  it('pulls the files one by one from a remote that holds them as single objects', async () => {
    const a = cache();
    const remote = new MemoryRemote();
    const { entry, target } = await made(a, 6);
    await pushEntries(a.objects, remote, [entry], 4);
    remote.objects.delete(partKey(entry));
    for (const f of await a.objects.readManifest(entry.outs['data/out']!.digest)) remote.objects.set(objectKey(f.digest), readFileSync(a.objects.objectPath(f.digest)));
    const b = cache();
    expect(await pullEntries(b.objects, b.entries, remote, [target], 4)).toMatchObject({ entries: { pulled: 1 }, objects: { downloaded: 7 }, corrupt: [] });
    expect(await b.entries.getComplete(entry.fingerprint)).toEqual(entry);
  });

  it('a push cut off midway leaves objects but no entry, and the next push resumes', async () => {
    const a = cache();
    const remote = new MemoryRemote();
    const { entry } = await made(a, 50, 'a', 2);
    remote.failAfterPuts = 2;
    const cut = await pushEntries(a.objects, remote, [entry], 1);
    expect(cut.unreachable).toContain('connection reset');
    expect(cut.entries).toMatchObject({ pushed: 0, failed: 1 });
    expect(remote.objects.has(entryKey(entry.fingerprint))).toBe(false);
    expect(remote.objects.size).toBe(2);

    remote.failAfterPuts = undefined;
    const resumed = await pushEntries(a.objects, remote, [entry], 4);
    expect(resumed.entries).toMatchObject({ pushed: 1 });
    expect(resumed.objects.uploaded + resumed.objects.present).toBe(53);
    expect(resumed.objects.present).toBeGreaterThan(0);
    expect(remote.objects.size).toBe(5);
  });

  it('a remote that is down is reported once, without trying every object', async () => {
    const a = cache();
    const remote = new MemoryRemote();
    const { entry, target } = await made(a, 10);
    remote.down = true;
    const r = await pushEntries(a.objects, remote, [entry], 4);
    expect(r.unreachable).toBe('s3://fake/prefix: connection refused');
    expect(r.problems).toEqual([{ what: 'make', message: 'not pushed: s3://fake/prefix: connection refused' }]);
    const b = cache();
    expect((await pullEntries(b.objects, b.entries, remote, [target], 4)).unreachable).toBe('s3://fake/prefix: connection refused');
  });

  it('refuses remote entries that name other paths than the stage declares, and manifests that climb out', async () => {
    const t: PullTarget = { fingerprint: sha256('x'), stage: asStageId('s'), outs: ['data/out'] };
    const ok = { format: 1, fingerprint: t.fingerprint, stage: 's', outs: { 'data/out': { kind: 'file', digest: sha256('y'), size: 1, exec: false } } };
    expect(validEntry(ok, t)).toEqual(ok);
    expect(validEntry({ ...ok, outs: { '../../.bashrc': ok.outs['data/out'] } }, t)).toBeUndefined();
    expect(validEntry({ ...ok, fingerprint: sha256('other') }, t)).toBeUndefined();

    const remote = new MemoryRemote();
    const evil = JSON.stringify({ format: 1, files: [['../escape', sha256('z'), 1, 0]] });
    const md = sha256(evil);
    remote.objects.set(objectKey(md), Buffer.from(evil));
    remote.objects.set(objectKey(sha256('z')), Buffer.from('z'));
    remote.objects.set(entryKey(t.fingerprint), Buffer.from(JSON.stringify({ ...ok, outs: { 'data/out': { kind: 'dir', digest: md, fileCount: 1, size: 1 } } })));
    const b = cache();
    const r = await pullEntries(b.objects, b.entries, remote, [t], 2);
    expect(r.problems).toEqual([{ what: 's', message: `manifest ${md} names a path outside its directory; refused` }]);
    expect(await b.entries.get(t.fingerprint)).toBeUndefined();
  });
});

describe('which remote', () => {
  it('takes the variable (set by --remote) over the spec, keeps the spec settings, and turns off with none', () => {
    const spec = { url: 's3://lab/cache', endpoint: 'http://127.0.0.1:9000', push: 'auto' as const };
    expect(chooseRemote(spec, {})).toEqual({ ok: true, config: { url: 's3://lab/cache', bucket: 'lab', prefix: 'cache', endpoint: 'http://127.0.0.1:9000', region: undefined, push: 'auto', jobs: 32 } });
    expect(chooseRemote(spec, { MASSFLOW_REMOTE: 's3://other/x/y/' })).toMatchObject({ ok: true, config: { url: 's3://other/x/y', bucket: 'other', prefix: 'x/y', push: 'auto' } });
    expect(chooseRemote('s3://lab', {})).toMatchObject({ ok: true, config: { bucket: 'lab', prefix: '', push: 'manual' } });
    expect(chooseRemote(spec, { MASSFLOW_REMOTE: 'none' })).toEqual({ ok: true, config: undefined });
    expect(chooseRemote(undefined, {})).toEqual({ ok: true, config: undefined });
    expect(chooseRemote(undefined, { MASSFLOW_REMOTE: 'http://lab/x' })).toEqual({ ok: false, message: "--remote / MASSFLOW_REMOTE: 'http://lab/x' is not s3://BUCKET/PREFIX" });
  });
});

