// The object store's way in and out: what goes in comes back byte for byte with its exec bit,
// under either copy path (small files read and written inline, larger ones copied by the kernel),
// and an object is stored read-only under its digest even when its shard was removed meanwhile.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes, createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectStore } from '../../src/cache/store.js';
import { StatCache } from '../../src/cache/digest-path.js';
import { tempName, tempOwner } from '../../src/cache/atomic.js';
import { asDigest } from '../../src/core/brand.js';

let dir: string;
const digestPath = (p: string) => new StatCache(join(dir, 'stat')).digest(p);
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('object store', () => {
  it('restores a tree of small and large files, exec bits included, as it was stored', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mf-store-'));
    const src = join(dir, 'out');
    mkdirSync(join(src, 'sub'), { recursive: true });
    const contents: Record<string, Buffer> = {
      'a.txt': Buffer.from('small\n'), 'empty': Buffer.alloc(0), 'run.sh': Buffer.from('#!/bin/sh\necho hi\n'),
      'sub/edge': randomBytes(64 << 10), 'sub/over': randomBytes((64 << 10) + 1), 'sub/big.bin': randomBytes(3 << 20),
    };
    for (const [rel, data] of Object.entries(contents)) writeFileSync(join(src, rel), data);
    chmodSync(join(src, 'run.sh'), 0o755);
    chmodSync(join(src, 'sub/over'), 0o700);
    const store = new ObjectStore(join(dir, 'cache'));
    const stored = await store.putOutput(src, await digestPath(src));
    expect(stored?.kind).toBe('dir');
    const dest = join(dir, 'restored');
    await store.materialize(stored!, dest);
    for (const [rel, data] of Object.entries(contents)) {
      expect(readFileSync(join(dest, rel)).equals(data), rel).toBe(true);
      const exec = rel === 'run.sh' || rel === 'sub/over';
      expect(statSync(join(dest, rel)).mode & 0o777, rel).toBe(exec ? 0o755 : 0o644);
    }
    // One file output, inline and kernel-copied.
    for (const rel of ['a.txt', 'sub/big.bin']) {
      const one = await store.putOutput(join(src, rel), await digestPath(join(src, rel)));
      await store.materialize(one!, join(dir, 'one'));
      expect(readFileSync(join(dir, 'one')).equals(contents[rel]!)).toBe(true);
      expect(statSync(join(dir, 'one')).mode & 0o777).toBe(0o644);
    }
  });

  it('stores an object read-only under its digest, also when its shard went away after this process made it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mf-store-'));
    const store = new ObjectStore(join(dir, 'cache'));
    const first = await store.putBytes('first object');
    expect(statSync(store.objectPath(first)).mode & 0o777).toBe(0o444);
    // gc in another process removes the object and its (now empty) shard.
    rmSync(join(store.objectsDir, first.slice(0, 2)), { recursive: true, force: true });
    expect(await store.has(first)).toBe(false);
    const again = await store.putBytes('first object');
    expect(again).toBe(first);
    expect(readFileSync(store.objectPath(first), 'utf8')).toBe('first object');
    expect(await store.has(asDigest(sha(Buffer.from('never stored'))))).toBe(false);
    expect(readdirSync(store.tmpDir)).toEqual([]);
  });

  it('commits small files synchronously: read-only, deduplicated, and after gc removed their shard and the temp folder', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mf-store-'));
    const src = join(dir, 'out');
    mkdirSync(src);
    writeFileSync(join(src, 'a'), 'same bytes\n');
    writeFileSync(join(src, 'b'), 'same bytes\n');
    writeFileSync(join(src, 'c'), randomBytes(1000));
    const store = new ObjectStore(join(dir, 'cache'));
    const first = await store.putOutput(src, await digestPath(src));
    expect(first?.kind).toBe('dir');
    const objects = () => readdirSync(store.objectsDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    // a and b share one object; c has its own; the manifest is the third.
    expect(objects()).toHaveLength(3);
    for (const o of objects()) expect(statSync(o).mode & 0o777, o).toBe(0o444);
    for (const rel of ['a', 'c']) expect(readFileSync(store.objectPath(asDigest(sha(readFileSync(join(src, rel))))))).toEqual(readFileSync(join(src, rel)));
    // gc in another process removes every object, its shards and the temp folder.
    rmSync(store.objectsDir, { recursive: true, force: true });
    rmSync(store.tmpDir, { recursive: true, force: true });
    writeFileSync(join(src, 'c'), 'changed\n');
    const again = await store.putOutput(src, await digestPath(src));
    expect(objects()).toHaveLength(3);
    await store.materialize(again!, join(dir, 'back'));
    for (const rel of ['a', 'b', 'c']) expect(readFileSync(join(dir, 'back', rel), 'utf8')).toBe(readFileSync(join(src, rel), 'utf8'));
    expect(readdirSync(store.tmpDir)).toEqual([]);
  });

  it('gives distinct temp names that still name their writer', () => {
    const names = new Set(Array.from({ length: 10_000 }, () => tempName('/x', 'obj')));
    expect(names.size).toBe(10_000);
    for (const n of [...names].slice(0, 3)) expect(tempOwner(n.slice(3))).toBe(process.pid);
  });
});
