// Push and pull against the in-memory remote: only missing objects move, every pulled object is
// verified, a push cut off midway leaves no entry without its objects, remote entries are checked.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
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

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function cache() {
  const root = mkdtempSync(join(tmpdir(), 'massflow-remote-'));
  dirs.push(root);
  const objects = new ObjectStore(join(root, 'cache'));
  return { root, objects, entries: new EntryStore(join(root, 'cache'), objects), stat: new StatCache(join(root, 'stat')) };
}

/** A committed stage output: a directory of `files` small files, and its entry. */
async function made(c: ReturnType<typeof cache>, files: number, tag = 'a'): Promise<{ entry: CacheEntry; target: PullTarget }> {
  const dir = join(c.root, 'ws', 'out');
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < files; i++) writeFileSync(join(dir, `f${i}`), `${tag} ${i}\n`);
  const stored = (await c.objects.putOutput(dir, await c.stat.digest(dir)))!;
  const fingerprint = sha256(`fp-${tag}`);
  const entry: CacheEntry = { format: 1, fingerprint, stage: asStageId('make'), outs: { 'data/out': stored }, runId: asRunId('20261207-000000-000000'), createdAt: '', durationMs: 1 };
  await c.entries.put(entry);
  return { entry, target: { fingerprint, stage: asStageId('make'), outs: ['data/out'] } };
}

describe('push and pull', () => {
  it('moves only what the other side lacks, and a second clone restores it all', async () => {
    const a = cache();
    const remote = new MemoryRemote();
    const { entry, target } = await made(a, 100);
    const first = await pushEntries(a.objects, remote, [entry], 8);
    expect(first).toMatchObject({ entries: { pushed: 1, present: 0, failed: 0 }, objects: { uploaded: 101, present: 0 }, problems: [] });
    // 101 candidates and an empty remote: one listing answers for all of them, no HEAD per object.
    expect(remote.calls).toMatchObject({ has: 0, list: 2 });
    const again = await pushEntries(a.objects, remote, [entry], 8);
    expect(again).toMatchObject({ entries: { pushed: 0, present: 1 }, objects: { uploaded: 0, present: 101 } });

    const b = cache();
    const pulled = await pullEntries(b.objects, b.entries, remote, [target], 8);
    expect(pulled).toMatchObject({ entries: { pulled: 1, local: 0, absent: 0, failed: 0 }, objects: { downloaded: 101 }, corrupt: [] });
    expect(await b.entries.getComplete(entry.fingerprint)).toEqual(entry);
    const gets = remote.calls.get;
    expect(await pullEntries(b.objects, b.entries, remote, [target], 8)).toMatchObject({ entries: { pulled: 0, local: 1 }, objects: { downloaded: 0 } });
    expect(remote.calls.get).toBe(gets);
  });

  it('refuses a corrupt object, names it, and writes no entry; a later pull after repair completes', async () => {
    const a = cache();
    const remote = new MemoryRemote();
    const { entry, target } = await made(a, 5);
    await pushEntries(a.objects, remote, [entry], 4);
    const manifest = await a.objects.readManifest(entry.outs['data/out']!.digest);
    const victim = objectKey(manifest[2]!.digest);
    const good = remote.objects.get(victim)!;
    remote.objects.set(victim, Buffer.from('tampered'));

    const b = cache();
    const r = await pullEntries(b.objects, b.entries, remote, [target], 4);
    expect(r.corrupt).toEqual([victim]);
    expect(r.entries).toMatchObject({ pulled: 0, failed: 1 });
    expect(r.problems[0]!.message).toContain(`${victim} is corrupt or partial: 8 bytes hashing to ${sha256('tampered').slice(0, 12)}; refused`);
    expect(await b.objects.has(manifest[2]!.digest)).toBe(false);
    expect(await b.entries.get(entry.fingerprint)).toBeUndefined();

    remote.objects.set(victim, good);
    const downloaded = remote.calls.get;
    expect(await pullEntries(b.objects, b.entries, remote, [target], 4)).toMatchObject({ entries: { pulled: 1 }, objects: { downloaded: 1 } });
    expect(remote.calls.get - downloaded).toBe(2); // the entry, then the one object it still lacked
  });

  it('a push cut off midway leaves objects but no entry, and the next push resumes', async () => {
    const a = cache();
    const remote = new MemoryRemote();
    const { entry } = await made(a, 50);
    remote.failAfterPuts = 20;
    const cut = await pushEntries(a.objects, remote, [entry], 4);
    expect(cut.unreachable).toContain('connection reset');
    expect(cut.entries).toMatchObject({ pushed: 0, failed: 1 });
    expect(remote.objects.has(entryKey(entry.fingerprint))).toBe(false);
    expect(remote.objects.size).toBe(20);

    remote.failAfterPuts = undefined;
    const resumed = await pushEntries(a.objects, remote, [entry], 4);
    expect(resumed).toMatchObject({ entries: { pushed: 1 }, objects: { uploaded: 31, present: 20 } });
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

