// Project paths are normalised for every deps, outs and metrics entry of every stage instance; most
// are normal already and skip the general path. Both must agree on every input: a path's text goes
// into fingerprints and cache entries.
import { describe, expect, it } from 'vitest';
import { posix } from 'node:path';
import { normalizeProjectPath } from '../../src/pipeline/compile-stage.js';

/** The general way, as it always was. */
function general(p: string): string | undefined {
  if (p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p)) return undefined;
  const n = posix.normalize(p.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (n === '..' || n.startsWith('../') || n === '' || n === '.') return undefined;
  return n;
}

describe('project paths', () => {
  it('normalise as the general way does, for every string of up to 6 characters from a path alphabet', () => {
    const alphabet = ['a', 'b', '.', '/', '\\', 'C', ':'];
    let checked = 0;
    const visit = (p: string) => {
      expect(normalizeProjectPath(p), JSON.stringify(p)).toBe(general(p));
      checked++;
      if (p.length < 6) for (const c of alphabet) visit(p + c);
    };
    visit('');
    expect(checked).toBe((7 ** 7 - 1) / 6);
  });

  it('keeps what is normal and rewrites or refuses the rest', () => {
    expect(normalizeProjectPath('out/0')).toBe('out/0');
    expect(normalizeProjectPath('data/.hidden/x...y')).toBe('data/.hidden/x...y');
    expect(normalizeProjectPath('./out//a/')).toBe('out/a');
    expect(normalizeProjectPath('a\\b')).toBe('a/b');
    expect(normalizeProjectPath('a/../..')).toBeUndefined();
    expect(normalizeProjectPath('C:/x')).toBeUndefined();
    expect(normalizeProjectPath('/etc')).toBeUndefined();
  });
});
