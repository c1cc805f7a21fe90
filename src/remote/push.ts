// Push: cache entries and the objects they name, to the remote. Objects go first and an entry only
// once every object it names is on the remote, so a push killed at any point leaves objects without
// entries at worst (harmless, reused by the next push), never an entry pointing at a missing object.
// Object keys are content addresses, and a bundle part's bytes are fixed by its key, so concurrent
// writers of one key write the same bytes. An entry already on the remote vouches for its objects,
// so a push that has nothing to send costs one HEAD per entry.
import { readFile, stat } from 'node:fs/promises';
import type { Digest } from '../core/brand.js';
import { sha256 } from '../cache/canonical.js';
import type { CacheEntry } from '../cache/entries.js';
import type { ObjectStore } from '../cache/store.js';
import { bundleParts, type BundlePart } from './bundle.js';
import { damaged, verifiedFileStream } from './hashing-sink.js';
import { forEachLimit, LARGE_AT_ONCE, LARGE_OBJECT } from './pool.js';
import { digestFromObjectKey, entryKey, objectKey, type PutBody, type RemoteStore } from './store.js';

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

/** Below this many candidates, HEAD each; above, listing the remote may be cheaper. */
const HEAD_ALWAYS = 64;
const SHARDS = 256;
const LIST_PAGE = 1000;

/** What travels as one request: a single object, or a bundle part of a directory's small files. */
export type Unit = { kind: 'object'; digest: Digest; size: number | undefined } | { kind: 'bundle'; part: BundlePart };
const unitKey = (u: Unit) => (u.kind === 'object' ? objectKey(u.digest) : u.part.key);
const unitObjects = (u: Unit) => (u.kind === 'object' ? 1 : u.part.members.length);

/** The units an entry needs on the remote (dir outputs: the manifest, its bundle parts, its large files), or the object the local cache lacks. */
export async function entryUnits(objects: ObjectStore, e: CacheEntry): Promise<{ units: Unit[] } | { missing: string }> {
  const out: Unit[] = [];
  for (const [path, o] of Object.entries(e.outs)) {
    if (!(await objects.has(o.digest))) return { missing: `${path} (object ${o.digest.slice(0, 12)})` };
    out.push({ kind: 'object', digest: o.digest, size: o.kind === 'file' ? o.size : undefined });
    if (o.kind === 'dir') {
      const files = await objects.readManifest(o.digest);
      for (const f of files) {
        if (!(await objects.has(f.digest))) return { missing: `${path}/${f.rel} (object ${f.digest.slice(0, 12)})` };
      }
      const { parts, loose } = bundleParts(o.digest, files);
      const sizes = new Map(files.map((f) => [f.digest, f.size]));
      out.push(...parts.map((part): Unit => ({ kind: 'bundle', part })), ...loose.map((digest): Unit => ({ kind: 'object', digest, size: sizes.get(digest) })));
    }
  }
  return { units: out };
}

/**
 * Which of `keys` the remote has. HEAD per key is one request each; a listing is one per 1000 keys
 * on the remote. For many object keys, one shard's listing estimates the remote's size, then the
 * cheaper one is used. Bundle parts are few (a directory of 10k small files has one): HEAD each.
 */
export async function remoteHas(remote: RemoteStore, keys: readonly string[], jobs: number): Promise<Set<string>> {
  const present = new Set<string>();
  let toHead = keys;
  const objectKeys = keys.filter((k) => digestFromObjectKey(k));
  if (objectKeys.length > HEAD_ALWAYS) {
    const shard = objectKeys[0]!.slice('objects/'.length, 'objects/'.length + 2);
    let inShard = 0;
    for await (const _ of remote.list(`objects/${shard}/`)) inShard++;
    if ((inShard * SHARDS) / LIST_PAGE < objectKeys.length) {
      const wanted = new Set(objectKeys);
      for await (const key of remote.list('objects/')) if (wanted.has(key)) present.add(key);
      toHead = keys.filter((k) => !digestFromObjectKey(k));
    }
  }
  const r = await forEachLimit(toHead, jobs, async (k) => { if (await remote.has(k)) present.add(k); });
  if (r.stopped) throw r.stopped;
  const first = r.failed.values().next();
  if (!first.done) throw first.value;
  return present;
}

async function uploadObject(objects: ObjectStore, remote: RemoteStore, d: Digest): Promise<number> {
  const path = objects.objectPath(d);
  const { size } = await stat(path);
  // A damaged local object must not spread: it is checked before it leaves (the server checks
  // again). A large one is hashed as it streams out, its last chunk held back until it verified.
  const body: PutBody = size <= LARGE_OBJECT ? { kind: 'bytes', data: await readVerified(objects, d) } : { kind: 'stream', stream: verifiedFileStream(path, size, d), size };
  try { await remote.put(objectKey(d), body, { sha256: d }); } catch (e) {
    if (body.kind === 'stream') body.stream.destroy(); // a request that failed before reading it all
    throw e;
  }
  return size;
}

/** Reads a local object whole, refusing one whose content is not its name (a damaged object must not spread). */
async function readVerified(objects: ObjectStore, d: Digest): Promise<Buffer> {
  const data = await readFile(objects.objectPath(d));
  const got = sha256(data);
  if (got !== d) throw damaged(d, data.length, got);
  return data;
}

async function uploadBundle(objects: ObjectStore, remote: RemoteStore, part: BundlePart): Promise<number> {
  const data = Buffer.concat(await Promise.all(part.members.map((m) => readVerified(objects, m.digest))));
  await remote.put(part.key, { kind: 'bytes', data }, { sha256: sha256(data) });
  return data.length;
}

export async function pushEntries(objects: ObjectStore, remote: RemoteStore, entries: readonly CacheEntry[], jobs: number, progress: OnProgress = () => {}): Promise<PushReport> {
  const report: PushReport = { entries: { pushed: 0, present: 0, failed: 0 }, objects: { uploaded: 0, present: 0, bytes: 0 }, problems: [], unreachable: undefined };
  const notPushed = (es: Iterable<CacheEntry>, message: string) => {
    for (const e of es) { report.entries.failed++; report.problems.push({ what: e.stage, message }); }
  };
  // An entry on the remote implies its objects are there (objects are written first, nothing
  // deletes): one HEAD per entry settles a push that has nothing to send.
  progress({ phase: 'check', done: 0, total: entries.length, bytes: 0 });
  let onRemote: Set<string>;
  try { onRemote = await remoteHas(remote, entries.map((e) => entryKey(e.fingerprint)), jobs); } catch (e) {
    report.unreachable = (e as Error).message;
    notPushed(entries, `not pushed: ${(e as Error).message}`);
    return report;
  }
  const needs = new Map<CacheEntry, Unit[]>();
  for (const e of entries) {
    if (onRemote.has(entryKey(e.fingerprint))) { report.entries.present++; continue; }
    const r = await entryUnits(objects, e);
    if ('missing' in r) notPushed([e], `not pushed: the local cache lacks ${r.missing}`);
    else needs.set(e, r.units);
  }
  const all = [...new Map([...needs.values()].flat().map((u) => [unitKey(u), u])).values()];
  let present: Set<string>;
  try { present = await remoteHas(remote, all.map(unitKey), jobs); } catch (e) {
    report.unreachable = (e as Error).message;
    notPushed(needs.keys(), `not pushed: ${(e as Error).message}`);
    return report;
  }
  const missing = all.filter((u) => !present.has(unitKey(u)));
  for (const u of all) if (present.has(unitKey(u))) report.objects.present += unitObjects(u);
  const total = missing.reduce((n, u) => n + unitObjects(u), 0);

  let done = 0;
  progress({ phase: 'upload', done, total, bytes: 0 });
  const large = { is: (u: Unit) => u.kind === 'object' && (u.size ?? 0) > LARGE_OBJECT, limit: LARGE_AT_ONCE };
  const up = await forEachLimit(missing, jobs, async (u) => {
    const size = u.kind === 'object' ? await uploadObject(objects, remote, u.digest) : await uploadBundle(objects, remote, u.part);
    report.objects.uploaded += unitObjects(u);
    report.objects.bytes += size;
    done += unitObjects(u);
    progress({ phase: 'upload', done, total, bytes: report.objects.bytes });
  }, large);
  if (up.stopped) report.unreachable = up.stopped.message;
  const uploaded = (u: Unit) => present.has(unitKey(u)) || up.done.has(u);

  const ready = [...needs].filter(([e, us]) => {
    const lacking = us.filter((u) => !uploaded(u));
    if (!lacking.length) return true;
    const err = up.failed.get(lacking[0]!);
    notPushed([e], `not pushed: ${lacking.length} upload${lacking.length > 1 ? 's' : ''} did not complete${err ? ` (${err.message})` : ''}`);
    return false;
  }).map(([e]) => e);
  if (report.unreachable) {
    notPushed(ready, `not pushed: ${report.unreachable}`);
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
  for (const [e, err] of put.failed) notPushed([e], `entry not pushed: ${err.message}`);
  return report;
}
