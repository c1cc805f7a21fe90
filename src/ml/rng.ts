// A small seeded PRNG so shuffles, splits, augmentations and initial weights are reproducible and
// independent of the backend (tfjs's own seeded random ops differ between backends).

/** mulberry32: 32-bit state, fast, good enough for shuffling and weight init. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    // Mix the seed once so nearby seeds (1, 2, 3) start far apart.
    this.state = hash32(seed >>> 0);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates, in place; returns the array. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  }
}

function hash32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A seed for one purpose derived from a base seed, so streams do not overlap (e.g. init vs shuffle). */
export function deriveSeed(seed: number, ...labels: (string | number)[]): number {
  let h = hash32(seed >>> 0);
  for (const l of labels) {
    const s = String(l);
    for (let i = 0; i < s.length; i++) h = hash32(h ^ s.charCodeAt(i));
    h = hash32(h ^ 0x9e3779b9);
  }
  return h;
}

/** 0..n-1 */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
