// Push: cache entries and the objects they name, to the remote. Objects go first and an entry only
// once every object it names is on the remote, so a push killed at any point leaves objects without
// entries at worst (harmless, reused by the next push), never an entry pointing at a missing object.
// Object keys are content addresses, so concurrent writers of one key write the same bytes.
import { readFile, stat } from 'node:fs/promises';
import type { Digest } from '../core/brand.js';
import { sha256 } from '../cache/canonical.js';
import type { CacheEntry } from '../cache/entries.js';
import { hashFile } from '../cache/hash-file.js';
import type { ObjectStore } from '../cache/store.js';
import { forEachLimit } from './pool.js';
import { digestFromObjectKey, entryKey, objectKey, type RemoteStore } from './store.js';

export type TransferPhase = 'check' | 'upload' | 'download' | 'entries';
export type OnProgress = (p: { phase: TransferPhase; done: number; total: number; bytes: number }) => void;

export interface Problem { what: string; message: string }

export interface PushReport {
  entries: { pushed: number; present: number; failed: number };
  objects: { uploaded: number; present: number; bytes: number };
  problems: Problem[];
  /** Set when the remote stopped answering: what was not pushed is in `problems`. */
  unreachable: string | undefined;
}

/** Objects held in memory for one request up to this size; larger ones stream from disk. */
const IN_MEMORY = 8 << 20;
/** Below this many candidates, HEAD each; above, listing the remote may be cheaper. */
const HEAD_ALWAYS = 64;
const SHARDS = 256;
const LIST_PAGE = 1000;

/** Every object an entry needs (dir outputs: the manifest and each file), or the one the local cache lacks. */
export async function entryObjects(objects: ObjectStore, e: CacheEntry): Promise<{ digests: Digest[] } | { missing: string }> {
  const out: Digest[] = [];
  for (const [path, o] of Object.entries(e.outs)) {
    if (!(await objects.has(o.digest))) return { missing: `${path} (object ${o.digest.slice(0, 12)})` };
    out.push(o.digest);
    if (o.kind === 'dir') {
      for (const f of await objects.readManifest(o.digest)) {
        if (!(await objects.has(f.digest))) return { missing: `${path}/${f.rel} (object ${f.digest.slice(0, 12)})` };
        out.push(f.digest);
      }
    }
  }
  return { digests: out };
}

/**
 * Which of `digests` the remote has. HEAD per object is one request each; a listing is one per 1000
 * keys on the remote. One shard's listing estimates the remote's size, then the cheaper one is used.
 */
export async function remoteHas(remote: RemoteStore, digests: readonly string[], jobs: number): Promise<Set<string>> {
  const present = new Set<string>();
  if (digests.length > HEAD_ALWAYS) {
    const shard = digests[0]!.slice(0, 2);
    let inShard = 0;
    for await (const _ of remote.list(`objects/${shard}/`)) inShard++;
    if ((inShard * SHARDS) / LIST_PAGE < digests.length) {
      const wanted = new Set(digests);
      for await (const key of remote.list('objects/')) {
        const d = digestFromObjectKey(key);
        if (d && wanted.has(d)) present.add(d);
      }
      return present;
    }
  }
  const r = await forEachLimit(digests, jobs, async (d) => { if (await remote.has(objectKey(d))) present.add(d); });
  if (r.stopped) throw r.stopped;
  const first = r.failed.values().next();
  if (!first.done) throw first.value;
  return present;
}

async function uploadObject(objects: ObjectStore, remote: RemoteStore, d: Digest): Promise<number> {
  const path = objects.objectPath(d);
  const { size } = await stat(path);
  // A damaged local object must not spread: check it before it leaves (the server checks again).
  if (size <= IN_MEMORY) {
    const data = await readFile(path);
    if (sha256(data) !== d) throw new Error(`local object ${d} is damaged (its content hashes to ${sha256(data)})`);
    await remote.put(objectKey(d), { kind: 'bytes', data }, { sha256: d });
  } else {
    const h = await hashFile(path);
    if (h.digest !== d) throw new Error(`local object ${d} is damaged (its content hashes to ${h.digest})`);
    await remote.put(objectKey(d), { kind: 'file', path, size }, { sha256: d });
  }
  return size;
}

export async function pushEntries(objects: ObjectStore, remote: RemoteStore, entries: readonly CacheEntry[], jobs: number, progress: OnProgress = () => {}): Promise<PushReport> {
  const report: PushReport = { entries: { pushed: 0, present: 0, failed: 0 }, objects: { uploaded: 0, present: 0, bytes: 0 }, problems: [], unreachable: undefined };
  const needs = new Map<CacheEntry, Digest[]>();
  for (const e of entries) {
    const r = await entryObjects(objects, e);
    if ('missing' in r) {
      report.entries.failed++;
      report.problems.push({ what: e.stage, message: `not pushed: the local cache lacks ${r.missing}` });
    } else needs.set(e, r.digests);
  }
  const all = [...new Set([...needs.values()].flat())];
  progress({ phase: 'check', done: 0, total: all.length, bytes: 0 });
  let present: Set<string>;
  try { present = await remoteHas(remote, all, jobs); } catch (e) {
    report.unreachable = (e as Error).message;
    report.entries.failed += needs.size;
    for (const e2 of needs.keys()) report.problems.push({ what: e2.stage, message: `not pushed: ${(e as Error).message}` });
    return report;
  }
  const missing = all.filter((d) => !present.has(d));
  report.objects.present = all.length - missing.length;

  let done = 0;
  progress({ phase: 'upload', done, total: missing.length, bytes: 0 });
  const up = await forEachLimit(missing, jobs, async (d) => {
    const size = await uploadObject(objects, remote, d);
    report.objects.uploaded++;
    report.objects.bytes += size;
    progress({ phase: 'upload', done: ++done, total: missing.length, bytes: report.objects.bytes });
  });
  if (up.stopped) report.unreachable = up.stopped.message;
  const onRemote = (d: Digest) => present.has(d) || up.done.has(d);

  const ready = [...needs].filter(([e, ds]) => {
    const lacking = ds.filter((d) => !onRemote(d));
    if (!lacking.length) return true;
    const err = up.failed.get(lacking[0]!);
    report.entries.failed++;
    report.problems.push({ what: e.stage, message: `not pushed: ${lacking.length} object${lacking.length > 1 ? 's' : ''} did not upload${err ? ` (${err.message})` : ''}` });
    return false;
  }).map(([e]) => e);
  if (report.unreachable) {
    report.entries.failed += ready.length;
    for (const e of ready) report.problems.push({ what: e.stage, message: `not pushed: ${report.unreachable}` });
    return report;
  }
  let written = 0;
  const put = await forEachLimit(ready, jobs, async (e) => {
    // Conditional: the first machine to publish a fingerprint wins; both results are complete.
    const r = await remote.put(entryKey(e.fingerprint), { kind: 'bytes', data: Buffer.from(JSON.stringify(e)) }, { ifAbsent: true });
    if (r === 'written') report.entries.pushed++; else report.entries.present++;
    progress({ phase: 'entries', done: ++written, total: ready.length, bytes: report.objects.bytes });
  });
  if (put.stopped) report.unreachable = put.stopped.message;
  for (const [e, err] of put.failed) { report.entries.failed++; report.problems.push({ what: e.stage, message: `entry not pushed: ${err.message}` }); }
  return report;
}
