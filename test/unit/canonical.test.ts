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
});
