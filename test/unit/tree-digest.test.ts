// The digests of files and trees are what every fingerprint is made of: the fast paths of the stat
// cache (one read into a reused buffer for small files, streaming for large ones, rows reused by a
// merge with the last look) must give exactly the digests the plain way gives. The pinned values
// were computed by the earlier implementation (readFileSync per small file, a map of entries), so a
// change here would change users' fingerprints.
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manifestText, StatCache, type FileEntry } from '../../src/cache/digest-path.js';
import { hashSmallFileSync, SMALL_FILE } from '../../src/cache/hash-file.js';
import { hashSmallFilesOffThread } from '../../src/cache/hash-worker.js';
import type { Digest } from '../../src/core/brand.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (n: number, seed: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
};
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex') as Digest;

/** Sizes on both sides of the small-file limit, empty files, names that sort around '/', an
 * executable, symlinks to a file, to a directory and to nothing, and a writer's temp file. */
function mixedTree(): string {
  dir = mkdtempSync(join(tmpdir(), 'mf-tree-'));
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'a', 'deep', 'er'), { recursive: true });
  mkdirSync(join(tree, 'a-b'), { recursive: true });
  mkdirSync(join(dir, 'outside'), { recursive: true });
  writeFileSync(join(tree, 'empty'), '');
  writeFileSync(join(tree, 'a', 'empty'), '');
  for (let i = 0; i < 40; i++) writeFileSync(join(tree, 'a', 'deep', 'er', `f${i}.txt`), bytes(i * 97, i));
  writeFileSync(join(tree, 'a-b', 'x'), 'x\n');
  writeFileSync(join(tree, 'a.b'), 'dot\n');
  writeFileSync(join(tree, 'just-under'), bytes(SMALL_FILE - 1, 1));
  writeFileSync(join(tree, 'exactly'), bytes(SMALL_FILE, 2));
  writeFileSync(join(tree, 'big.bin'), bytes(3 * (1 << 20) + 5, 3));
  writeFileSync(join(tree, 'run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(tree, 'run.sh'), 0o755);
  writeFileSync(join(dir, 'outside', 'target.txt'), 'linked content\n');
  writeFileSync(join(dir, 'outside', 'inner.txt'), 'inner\n');
  symlinkSync(join(dir, 'outside', 'target.txt'), join(tree, 'link-to-file'));
  symlinkSync(join(dir, 'outside'), join(tree, 'link-to-dir'));
  symlinkSync(join(dir, 'nowhere'), join(tree, 'dangling'));
  writeFileSync(join(tree, 'a', '.w.tmp-4194303-0123abcd'), 'partial');
  return tree;
}

/** The plain way, written out independently: follow symlinks, skip dangling ones and writers' temp
 * files, read every file whole, list by path. */
function reference(tree: string): { digest: Digest; files: FileEntry[] } {
  const files: FileEntry[] = [];
  const walk = (abs: string, rel: string) => {
    for (const name of readdirSync(abs)) {
      if (/^\.[a-z]+\.tmp-\d+-[0-9a-f]{8}$/.test(name)) continue;
      const p = join(abs, name);
      let st;
      try { st = statSync(p); } catch { continue; }
      if (st.isDirectory()) walk(p, `${rel}${name}/`);
      else files.push({ rel: `${rel}${name}`, digest: sha(readFileSync(p)), size: st.size, exec: (st.mode & 0o111) !== 0 });
    }
  };
  walk(tree, '');
  files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return { digest: sha(Buffer.from(manifestText(files))), files };
}

/** Every file and directory under `p` (and what the tree's links point to) an hour old: nothing is
 * racy, so unchanged rows are reused. */
function age(p: string, top = true) {
  const old = new Date(Date.now() - 3600_000);
  const st = lstatSync(p);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) for (const n of readdirSync(p)) age(join(p, n), false);
  utimesSync(p, old, old);
  if (top) age(join(dir, 'outside'), false);
}

/** The mixed tree, aged, and a stat cache that has looked at it once. */
async function lookedAtOld() {
  const tree = mixedTree();
  const cache = new StatCache(join(dir, 'state'));
  age(tree);
  return { tree, cache, first: await cache.digest(tree) };
}

describe('tree and file digests', () => {
  it('a mixed tree has the digest the earlier implementation gave, and the plain way gives', async () => {
    const tree = mixedTree();
    const cache = new StatCache(join(dir, 'state'));
    const cold = await cache.digest(tree);
    const ref = reference(tree);
    expect(cold).toEqual({ kind: 'dir', digest: ref.digest, files: ref.files });
    expect(ref.files).toHaveLength(51);
    expect(cold.kind === 'dir' && cold.digest).toBe('91a8c67664c8087e2cf4d25e25634d940a5d800ce79915c8fc43bbd8f92457c4');
    // Again from the cache (rows, then the signature file alone) and from a cache that never saw it.
    age(tree);
    expect(await cache.digest(tree)).toEqual(cold);
    expect(await cache.digest(tree)).toEqual(cold);
    expect(await cache.digestOnly(tree)).toEqual({ kind: 'dir', digest: ref.digest });
    expect(await new StatCache(join(dir, 'other')).digestOnly(tree)).toEqual({ kind: 'dir', digest: ref.digest });
  });

  it('single files: empty, either side of the small-file size, large, a symlink, an executable', async () => {
    const tree = mixedTree();
    const pinned: Record<string, [string, number, boolean]> = {
      'empty': ['e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 0, false],
      'just-under': ['df004fc62f895791859ead2d94209b5b0a67220e8a84289ef2edf16c9d76d1f5', SMALL_FILE - 1, false],
      'exactly': ['114faf46aaae0a5a3feb6183e21530deb93e2f0ca24771d8f1d36a148ec3af98', SMALL_FILE, false],
      'big.bin': ['7af966f8482d23f6ff5598d2bff72ed818491e38eb736a79b9bd4cc308ed5468', 3 * (1 << 20) + 5, false],
      'link-to-file': ['4a8af676bd49bbb11a1f6ab480aab0cb3ecc601a6ea0198b63b377b18df402ad', 15, false],
      'run.sh': ['299001868fb8c02fd431c336c6d058f5558c5dff5b5af5e6fe04b870a6a9cbba', 18, true],
    };
    const cache = new StatCache(join(dir, 'state'));
    for (const [name, [digest, size, exec]] of Object.entries(pinned)) {
      expect(await cache.digest(join(tree, name))).toEqual({ kind: 'file', digest, size, exec });
      expect(sha(readFileSync(join(tree, name)))).toBe(digest);
    }
    expect(await cache.digest(join(tree, 'dangling'))).toEqual({ kind: 'missing' });
  });

  it('after adds, removes and edits, reused rows and re-hashed files give what a fresh cache gives', async () => {
    const { tree, cache, first } = await lookedAtOld();
    writeFileSync(join(tree, '0-first'), 'sorts before every old row\n');
    rmSync(join(tree, 'a', 'deep', 'er', 'f7.txt'));
    writeFileSync(join(tree, 'a', 'deep', 'er', 'f3.txt'), 'edited, another size\n');
    writeFileSync(join(tree, 'big.bin'), bytes(2 * (1 << 20), 9));
    writeFileSync(join(tree, 'zz-last'), bytes(SMALL_FILE + 1, 4));
    age(tree);
    const after = await cache.digest(tree);
    expect(after).not.toEqual(first);
    const ref = reference(tree);
    expect(after).toEqual({ kind: 'dir', digest: ref.digest, files: ref.files });
    expect(await new StatCache(join(dir, 'fresh')).digest(tree)).toEqual(after);
  });

  it('an unchanged, old row is reused without reading the file (the trust git and DVC give a stat)', async () => {
    const { tree, cache, first } = await lookedAtOld();
    // Another file added first moves every row; the edited one keeps size, mtime and inode.
    writeFileSync(join(tree, '0-first'), 'new\n');
    const f = join(tree, 'a', 'deep', 'er', 'f5.txt');
    const { mtime, size } = statSync(f);
    writeFileSync(f, Buffer.alloc(size, 0x41));
    utimesSync(f, mtime, mtime);
    age(join(tree, '0-first'));
    const after = await cache.digest(tree);
    const row = (d: typeof after, rel: string) => (d.kind === 'dir' ? d.files.find((x) => x.rel === rel) : undefined);
    expect(row(after, 'a/deep/er/f5.txt')).toEqual(row(first, 'a/deep/er/f5.txt'));
    expect(row(after, '0-first')?.digest).toBe(sha(Buffer.from('new\n')));
  });

  it('a stat cache file of the earlier format is not trusted: the tree is hashed again', async () => {
    const tree = mixedTree();
    const cache = new StatCache(join(dir, 'state'));
    const cold = await cache.digest(tree);
    const [json] = readdirSync(join(dir, 'state')).filter((n) => n.endsWith('.json'));
    const file = join(dir, 'state', json!);
    // Same signature, not racy, but every digest in it wrong: read as the current format, it would be believed.
    const current = JSON.parse(readFileSync(file, 'utf8')) as { rows: unknown[][] };
    const wrong = current.rows.map((r) => [...r.slice(0, 4), 'f'.repeat(64), r[5]]);
    writeFileSync(file, JSON.stringify({ ...current, v: 1, racy: false, rows: wrong }));
    expect(await cache.digest(tree)).toEqual(cold);
  });

  it('a small file read while it changes: read to its current end, or streamed once it has outgrown the buffer', () => {
    dir = mkdtempSync(join(tmpdir(), 'mf-small-'));
    const f = join(dir, 'f');
    writeFileSync(f, 'grown since its stat\n');
    expect(hashSmallFileSync(f, 5)).toBe(sha(readFileSync(f)));
    writeFileSync(f, bytes(1000, 5));
    truncateSync(f, 10); // shrunk since a stat that said 1000
    expect(hashSmallFileSync(f, 1000)).toBe(sha(bytes(1000, 5).subarray(0, 10)));
    writeFileSync(f, bytes(SMALL_FILE + 10, 6));
    expect(hashSmallFileSync(f, 10)).toBeUndefined();
  });

  it('a large cold tree is hashed on the worker thread while it is walked, to the same digests', async () => {
    const tree = mixedTree();
    for (let i = 0; i < 3000; i++) {
      if (i % 100 === 0) mkdirSync(join(tree, 'many', String(i / 100)), { recursive: true });
      writeFileSync(join(tree, 'many', String(Math.floor(i / 100)), `m${i}`), i % 7 ? `small ${i}\n` : '');
    }
    const cold = await new StatCache(join(dir, 'state')).digest(tree);
    const ref = reference(tree);
    expect(cold).toEqual({ kind: 'dir', digest: ref.digest, files: ref.files });
    expect(ref.files.length).toBe(3051);
  });

  it('the worker gives hashSmallFileSync\'s digests, undefined for a file grown too big, and a read\'s error', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mf-worker-'));
    const paths = [0, 1, 100, SMALL_FILE - 1].map((n) => { const p = join(dir, `f${n}`); writeFileSync(p, bytes(n, n)); return p; });
    const sizes = [0, 1, 100, SMALL_FILE - 1];
    expect(await hashSmallFilesOffThread(paths, sizes)).toEqual(paths.map((p, i) => hashSmallFileSync(p, sizes[i]!)));
    writeFileSync(paths[2]!, bytes(SMALL_FILE + 1, 1));
    expect((await hashSmallFilesOffThread(paths, sizes))[2]).toBeUndefined();
    await expect(hashSmallFilesOffThread([join(dir, 'gone')], [3])).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
  });
});
