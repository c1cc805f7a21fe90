// Bundles: the small files of a directory output travel together. An object store charges per
// request, and a directory of 10k small files would otherwise cost 10k PUTs to push and 10k GETs to
// pull. A manifest's files of at most BUNDLE_MEMBER_MAX bytes are concatenated, in manifest order
// and each digest once, into parts of at most BUNDLE_PART_MAX bytes, stored under
// `bundles/ab/<manifest digest rest>.<part>`. The split is a pure function of the manifest, so both
// sides compute it alike, a part's bytes are fixed by its key (two pushers write the same bytes),
// and the manifest (itself an object) is the bundle's index: every member is verified against its
// digest as it is cut out of the download.
import type { Digest } from '../core/brand.js';
import type { FileEntry } from '../cache/digest-path.js';

export const BUNDLE_MEMBER_MAX = 1 << 20;
export const BUNDLE_PART_MAX = 8 << 20;

export interface BundleMember { digest: Digest; size: number }
export interface BundlePart { key: string; members: BundleMember[]; size: number }

export const bundleKey = (manifest: string, part: number) => `bundles/${manifest.slice(0, 2)}/${manifest.slice(2)}.${part}`;

/** A manifest's bundle parts, and the files too large for one (they travel as single objects). */
export function bundleParts(manifest: Digest, files: readonly FileEntry[]): { parts: BundlePart[]; loose: Digest[] } {
  const parts: BundlePart[] = [];
  const loose: Digest[] = [];
  const seen = new Set<string>();
  let cur: BundlePart | undefined;
  for (const f of files) {
    if (seen.has(f.digest)) continue;
    seen.add(f.digest);
    if (f.size > BUNDLE_MEMBER_MAX) { loose.push(f.digest); continue; }
    if (!cur || cur.size + f.size > BUNDLE_PART_MAX) {
      cur = { key: bundleKey(manifest, parts.length), members: [], size: 0 };
      parts.push(cur);
    }
    cur.members.push({ digest: f.digest, size: f.size });
    cur.size += f.size;
  }
  return { parts, loose };
}

export type CutResult = { complete: true } | { complete: false; reason: string };

/**
 * Cuts a part's body into its members, handing each over whole (members are small) in order. A body
 * that ends early or runs long is reported; the members handed over before that are whole, and the
 * receiver verifies each against its digest.
 */
export async function cutMembers(body: AsyncIterable<Uint8Array>, part: BundlePart, onMember: (m: BundleMember, data: Buffer) => Promise<void>): Promise<CutResult> {
  let i = 0;
  let buf = Buffer.allocUnsafe(part.members[0]?.size ?? 0);
  let filled = 0;
  let total = 0;
  const emitFull = async () => {
    while (i < part.members.length && filled === part.members[i]!.size) {
      await onMember(part.members[i]!, buf);
      i++;
      filled = 0;
      buf = Buffer.allocUnsafe(part.members[i]?.size ?? 0);
    }
  };
  await emitFull(); // empty members
  for await (const chunk of body) {
    let c = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    total += c.length;
    while (c.length && i < part.members.length) {
      const n = Math.min(c.length, buf.length - filled);
      c.copy(buf, filled, 0, n);
      filled += n;
      c = c.subarray(n);
      await emitFull();
    }
    if (c.length) return { complete: false, reason: `${total} bytes or more where ${part.size} were expected` };
  }
  return i === part.members.length ? { complete: true } : { complete: false, reason: `${total} bytes where ${part.size} were expected` };
}
