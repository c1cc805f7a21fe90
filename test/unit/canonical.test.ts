// Canonical JSON is what every fingerprint hashes: its exact text must never change, or every
// cached result in every project goes stale at once.
import { describe, expect, it } from 'vitest';
import { canonicalJson, digestOf } from '../../src/cache/canonical.js';

describe('canonical JSON', () => {
  it('sorts keys, drops undefined members, writes undefined elements and non-finite numbers as JSON can', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2, { z: undefined, y: 'q"' }], c: undefined }, '': 0 })).toBe('{"":0,"a":{"d":[1,2,{"y":"q\\""}]},"b":1}');
    expect(canonicalJson([undefined, null, NaN, -Infinity, [], {}])).toBe('[null,null,"NaN","-Infinity",[],{}]');
    expect(canonicalJson({ x: undefined, y: 1 })).toBe('{"y":1}');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson('ü\n')).toBe('"ü\\n"');
  });

  it('gives the digest it gave before (computed with the earlier implementation)', () => {
    expect(digestOf({ format: 1, stage: 'fit@fold=0', params: { 'fit.lr': 0.0003 }, deps: { data: { producedBy: ['prep'] } }, outs: ['m/0'] }))
      .toBe('992b31e33852c3d07e23118243bcaf5d76844d027058726aa4386f2f5e8e59e6');
  });

  it('takes the native serialiser only where it gives the same text: 20,000 random values against the plain algorithm', () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const KEYS = ['', 'a', 'b', 'B', 'ab', 'é', '0', '1', '2', '10', '01', '-1', '1.5', 'z', 'kind', 'argv', 'toJSON'];
    const SCALARS = [0, -0, 1, -1.5, 1e21, 3e-7, NaN, Infinity, -Infinity, '', 'x', 'q"\\', '\ud800', 'ü\n', true, false, null, undefined];
    const gen = (depth: number): unknown => {
      const r = rand();
      if (depth > 3 || r < 0.4) return pick(SCALARS);
      if (r < 0.55) return Array.from({ length: Math.floor(rand() * 4) }, () => gen(depth + 1));
      if (r < 0.6) return pick([new Date(0), Object.create(null), () => 1, { toJSON: () => 'j' }]);
      const o: Record<string, unknown> = rand() < 0.2 ? Object.create(null) : {};
      const keys = Array.from({ length: Math.floor(rand() * 5) }, () => pick(KEYS));
      if (rand() < 0.5) keys.sort(); // sorted insertion: the fast path's case, integer-like keys included
      for (const k of keys) o[k] = gen(depth + 1);
      return o;
    };
    // The definition, written out plainly: sorted keys, undefined members dropped, undefined elements
    // and non-finite numbers as JSON writes them (and a function as the text 'undefined', as ever).
    const plain = (v: unknown): string => {
      if (v === undefined) return 'null';
      if (v === null || typeof v !== 'object') return typeof v === 'number' && !Number.isFinite(v) ? JSON.stringify(String(v)) : JSON.stringify(v);
      if (Array.isArray(v)) return `[${v.map((x) => String(plain(x))).join(',')}]`;
      const o = v as Record<string, unknown>;
      return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${plain(o[k])}`).join(',')}}`;
    };
    let fast = 0;
    for (let i = 0; i < 20_000; i++) {
      const v = gen(0);
      const text = canonicalJson(v);
      expect(text).toBe(plain(v));
      if (v !== null && typeof v === 'object' && text === JSON.stringify(v)) fast++;
    }
    expect(fast).toBeGreaterThan(1000); // the comparison covered values the native path serialises
  });
});
