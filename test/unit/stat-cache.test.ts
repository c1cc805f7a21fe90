// The stat cache's shortcuts never hide a change: an edit in the same mtime tick as the last look,
// and a file added, removed or renamed deep inside a directory dep, all change the digest.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatCache } from '../../src/cache/digest-path.js';

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
