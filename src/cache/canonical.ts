// Canonical JSON (sorted keys, no whitespace) and its SHA-256: the basis of every fingerprint.
import { createHash } from 'node:crypto';
import { asDigest, type Digest } from '../core/brand.js';

export function canonicalJson(v: unknown): string {
  if (v === undefined) return 'null';
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'number' && !Number.isFinite(v)) return JSON.stringify(String(v));
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

export const sha256 = (data: string | Uint8Array): Digest => asDigest(createHash('sha256').update(data).digest('hex'));

export const digestOf = (v: unknown): Digest => sha256(canonicalJson(v));
