// The stat cache's shortcuts never hide a change: an edit in the same mtime tick as the last look,
// and a file added, removed or renamed deep inside a directory dep, all change the digest.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manifestText, StatCache } from '../../src/cache/digest-path.js';
import { sha256 } from '../../src/cache/canonical.js';
import { asDigest } from '../../src/core/brand.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const setup = () => {
  dir = mkdtempSync(join(tmpdir(), 'mf-stat-'));
  const tree = join(dir, 'tree');
  for (let i = 0; i < 30; i++) {
    mkdirSync(join(tree, `d${i % 3}`, 'deep', 'er'), { recursive: true });
    writeFileSync(join(tree, `d${i % 3}`, 'deep', 'er', `f${i}.txt`), `file ${i}\n`);
  }
  return { tree, cache: new StatCache(join(dir, 'state')) };
};

/** Sets every file and directory under `p` to an mtime an hour ago: nothing is racy any more. */
function age(p: string) {
  const old = new Date(Date.now() - 3600_000);
  const st = statSync(p);
  if (st.isDirectory()) for (const n of readdirSync(p)) age(join(p, n));
  utimesSync(p, old, old);
}

describe('stat cache', () => {
  it('an edit with the same size and mtime right after a look is noticed (racy entries are re-hashed)', async () => {
    const { tree, cache } = setup();
    const f = join(tree, 'd0', 'deep', 'er', 'f0.txt');
    const before = await cache.digestOnly(tree);
    const { mtime } = statSync(f);
    writeFileSync(f, 'FILE 0\n'); // same length
    utimesSync(f, mtime, mtime); // and the mtime it had: only the content differs
    const after = await cache.digestOnly(tree);
    expect(after).not.toEqual(before);
    expect((await cache.digest(tree)).kind).toBe('dir');
    expect(await cache.digestOnly(tree)).toEqual(after);
  });

  for (const [what, change] of [
    ['added', (t: string) => writeFileSync(join(t, 'd1', 'deep', 'er', 'new.txt'), 'new\n')],
    ['removed', (t: string) => rmSync(join(t, 'd1', 'deep', 'er', 'f1.txt'))],
    ['renamed', (t: string) => renameSync(join(t, 'd1', 'deep', 'er', 'f1.txt'), join(t, 'd1', 'deep', 'er', 'g1.txt'))],
  ] as const) {
    it(`a file ${what} deep inside a directory changes its digest, also on the fast path`, async () => {
      const { tree, cache } = setup();
      age(tree);
      const first = await cache.digestOnly(tree);
      expect(await cache.digestOnly(tree)).toEqual(first); // now from the signature file
      change(tree);
      // Keep the change's own mtimes out of the way: only the listing differs.
      age(tree);
      const changed = await cache.digestOnly(tree);
      expect(changed.kind).toBe('dir');
      expect(changed).not.toEqual(first);
      // The same as a cache that never saw the tree before.
      expect(await new StatCache(join(dir, 'fresh-state')).digestOnly(tree)).toEqual(changed);
    });
  }

  it('a tree recorded as just restored is not hashed again, a change to it is noticed, and a record that does not match the disk is ignored', async () => {
    const { tree, cache } = setup();
    age(tree);
    const truth = await new StatCache(join(dir, 'elsewhere')).digest(tree);
    if (truth.kind !== 'dir') throw new Error('expected a directory');
    // A record whose first file claims another digest: a look that hashed would not report it.
    const files = truth.files.map((f, i) => (i === 0 ? { ...f, digest: asDigest('1'.repeat(64)) } : f));
    const claimed = { kind: 'dir' as const, digest: sha256(manifestText(files)), files };
    await cache.record(tree, claimed);
    expect(await cache.digestOnly(tree)).toEqual({ kind: 'dir', digest: claimed.digest });
    expect(await cache.digest(tree)).toEqual(claimed);
    writeFileSync(join(tree, truth.files[0]!.rel), 'changed\n');
    expect(await cache.digest(tree)).not.toEqual(claimed);

    // One file fewer than on disk: nothing is recorded, the next look hashes.
    const other = new StatCache(join(dir, 'state3'));
    age(tree);
    const now = await new StatCache(join(dir, 'elsewhere2')).digest(tree);
    if (now.kind !== 'dir') throw new Error('expected a directory');
    await other.record(tree, { kind: 'dir', digest: asDigest('2'.repeat(64)), files: now.files.slice(1) });
    expect(await other.digest(tree)).toEqual(now);
  });

  it('a writer\'s temp entry inside the tree is not content', async () => {
    const { tree, cache } = setup();
    const clean = await cache.digestOnly(tree);
    mkdirSync(join(tree, 'd2', '.restore.tmp-4194303-0123abcd'));
    writeFileSync(join(tree, 'd2', '.restore.tmp-4194303-0123abcd', 'f'), 'partial');
    writeFileSync(join(tree, 'd2', '.w.tmp-4194303-89abcdef'), 'partial');
    expect(await cache.digestOnly(tree)).toEqual(clean);
    // A dot file that is not ours is content.
    writeFileSync(join(tree, 'd2', '.hidden'), 'x');
    expect(await cache.digestOnly(tree)).not.toEqual(clean);
  });
});
