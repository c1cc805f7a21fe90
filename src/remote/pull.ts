// Pull: cache entries by fingerprint from the remote, and the objects they name that the local
// cache lacks. Every object is hashed as it arrives and stored only when its SHA-256 is its name:
// a corrupt or truncated object is refused and named, and its entry is not written locally. A
// directory's small files come in bundle parts (bundle.ts), each member verified as it is cut out.
// The local entry is written last, so a pull killed midway resumes with what already arrived.
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { isAbsolute, normalize } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { asDigest, type Digest, type StageId } from '../core/brand.js';
import { tempName } from '../cache/atomic.js';
import { sha256 } from '../cache/canonical.js';
import type { CacheEntry, EntryStore } from '../cache/entries.js';
import type { ObjectStore } from '../cache/store.js';
import { bundleParts, cutMembers, type BundlePart } from './bundle.js';
import { HashingFileSink } from './hashing-sink.js';
import { forEachLimit, LARGE_AT_ONCE, LARGE_OBJECT, readAll } from './pool.js';
import type { OnProgress, Problem } from './push.js';
import { entryKey, objectKey, type RemoteStore } from './store.js';

export interface PullReport {
  entries: { pulled: number; local: number; absent: number; failed: number };
  objects: { downloaded: number; present: number; bytes: number };
  /** Objects refused because their content does not hash to their name. */
  corrupt: string[];
  problems: Problem[];
  unreachable: string | undefined;
}

/** What to pull: a fingerprint, its stage, and the output paths the stage declares. */
export interface PullTarget { fingerprint: Digest; stage: StageId; outs: readonly string[] }

const MAX_ENTRY = 16 << 20;
const HEX64 = /^[0-9a-f]{64}$/;

/** A remote entry is used only when it is well formed and names exactly this stage's outputs. */
export function validEntry(raw: unknown, t: PullTarget): CacheEntry | undefined {
  const e = raw as CacheEntry;
  if (!e || e.format !== 1 || e.fingerprint !== t.fingerprint || typeof e.outs !== 'object' || e.outs === null) return undefined;
  const allowed = new Set(t.outs);
  for (const [path, o] of Object.entries(e.outs)) {
    if (!allowed.has(path) || !o || (o.kind !== 'file' && o.kind !== 'dir') || !HEX64.test(o.digest)) return undefined;
  }
  return e;
}

/** Manifest paths must stay inside their directory: a remote is shared, so it is checked. */
const safeRel = (rel: string) => !isAbsolute(rel) && !normalize(rel).split('/').includes('..');

/** Fetches the remote entry for a target; undefined when the remote has none (or a malformed one). */
export async function fetchEntry(remote: RemoteStore, t: PullTarget): Promise<CacheEntry | undefined> {
  const body = await remote.get(entryKey(t.fingerprint));
  if (!body) return undefined;
  try { return validEntry(JSON.parse((await readAll(body, MAX_ENTRY)).toString('utf8')), t); } catch { return undefined; }
}

type Fetched = { ok: true; size: number } | { ok: false; corrupt: boolean; message: string };

/** A temp file in the cache's tmp dir filled by `fill` and made safe to name; removed again when anything fails. */
async function writeTemp<T>(objects: ObjectStore, fill: (fh: FileHandle) => Promise<T>): Promise<{ tmp: string; filled: T }> {
  const tmp = tempName(objects.tmpDir, 'pull');
  const fh = await open(tmp, 'w');
  let filled: T;
  try {
    filled = await fill(fh);
    await objects.makeSafe(fh);
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  return { tmp, filled };
}

/** Writes verified bytes into the local cache under their digest. */
async function store(objects: ObjectStore, d: Digest, data: Buffer): Promise<void> {
  await objects.adopt((await writeTemp(objects, (fh) => fh.writeFile(data))).tmp, d);
}

const refusal = (url: string, key: string, size: number, got: string) => `${url}/${key} is corrupt or partial: ${size} bytes hashing to ${got.slice(0, 12)}; refused`;

async function download(objects: ObjectStore, remote: RemoteStore, d: Digest): Promise<Fetched> {
  const body = await remote.get(objectKey(d));
  if (!body) return { ok: false, corrupt: false, message: `object ${d} is missing on ${remote.url}` };
  // Hashed as it is written, so it is never read again; it gets its name only when that is its hash.
  const { tmp, filled: sink } = await writeTemp(objects, async (fh) => {
    const s = new HashingFileSink(fh, objects.durable);
    await pipeline(body, s);
    return s;
  });
  const got = sink.digest();
  if (got !== d) {
    await rm(tmp, { force: true });
    return { ok: false, corrupt: true, message: refusal(remote.url, objectKey(d), sink.size, got) };
  }
  await objects.adopt(tmp, d);
  return { ok: true, size: sink.size };
}

/** Stores at most this many members of a bundle part at once (their writes, and any fsyncs, overlap). */
const STORE_AHEAD = 16;

/**
 * Downloads a bundle part and stores the members in `wanted`, each only when its content hashes to
 * its digest. Undefined when the remote has no such part (the files were pushed one by one); else
 * what each wanted member came to.
 */
async function downloadPart(objects: ObjectStore, remote: RemoteStore, part: BundlePart, wanted: ReadonlySet<string>): Promise<Map<Digest, Fetched> | undefined> {
  const body = await remote.get(part.key);
  if (!body) return undefined;
  const out = new Map<Digest, Fetched>();
  const pending = new Set<Promise<void>>();
  const cut = await cutMembers(body, part, async (m, data) => {
    if (!wanted.has(m.digest)) return;
    const got = sha256(data);
    if (got !== m.digest) { out.set(m.digest, { ok: false, corrupt: true, message: refusal(remote.url, `${part.key} (member ${m.digest.slice(0, 12)})`, data.length, got) }); return; }
    const p: Promise<void> = store(objects, m.digest, data).then(() => { out.set(m.digest, { ok: true, size: data.length }); }).finally(() => pending.delete(p));
    pending.add(p);
    if (pending.size >= STORE_AHEAD) await Promise.race(pending);
  });
  await Promise.all(pending);
  if (!cut.complete) {
    for (const m of part.members) {
      if (wanted.has(m.digest) && !out.has(m.digest)) out.set(m.digest, { ok: false, corrupt: true, message: `${remote.url}/${part.key} is corrupt or partial: ${cut.reason}; refused` });
    }
  }
  return out;
}

export async function pullEntries(objects: ObjectStore, entries: EntryStore, remote: RemoteStore, targets: readonly PullTarget[], jobs: number, progress: OnProgress = () => {}): Promise<PullReport & { pulled: CacheEntry[] }> {
  const report: PullReport & { pulled: CacheEntry[] } = {
    entries: { pulled: 0, local: 0, absent: 0, failed: 0 }, objects: { downloaded: 0, present: 0, bytes: 0 }, corrupt: [], problems: [], unreachable: undefined, pulled: [],
  };
  const found: CacheEntry[] = [];
  const looked = await forEachLimit(targets, jobs, async (t) => {
    if (await entries.getComplete(t.fingerprint)) { report.entries.local++; return; }
    const e = await fetchEntry(remote, t);
    if (e) found.push(e); else report.entries.absent++;
  });
  const stop = (err: Error) => {
    report.unreachable = err.message;
    report.entries.failed += targets.length - report.entries.local - report.entries.absent;
    return report;
  };
  if (looked.stopped) return stop(looked.stopped);
  for (const [t, err] of looked.failed) { report.entries.failed++; report.problems.push({ what: t.stage, message: err.message }); }

  // The file objects and directory manifests the entries name; then the manifests' files, small ones
  // by bundle part, large ones (and those of a remote that has no bundle) one by one.
  await mkdir(objects.tmpDir, { recursive: true });
  const failedObjects = new Map<Digest, string>();
  let done = 0;
  let total = 0;
  const settle = (d: Digest, f: Fetched, key: string) => {
    if (!f.ok) {
      failedObjects.set(d, f.message);
      if (f.corrupt && !report.corrupt.includes(key)) report.corrupt.push(key);
      return;
    }
    report.objects.downloaded++;
    report.objects.bytes += f.size;
    progress({ phase: 'download', done: ++done, total, bytes: report.objects.bytes });
  };
  const localMissing = async (wanted: Iterable<Digest>) => {
    const missing: Digest[] = [];
    for (const d of new Set(wanted)) {
      if (failedObjects.has(d)) continue;
      if (await objects.has(d)) report.objects.present++; else missing.push(d);
    }
    return missing;
  };
  // Sizes from the entries and manifests: the large objects are fetched a few at a time.
  const sizes = new Map<string, number>();
  for (const e of found) for (const o of Object.values(e.outs)) if (o.kind === 'file') sizes.set(o.digest, o.size);
  const large = { is: (d: Digest) => (sizes.get(d) ?? 0) > LARGE_OBJECT, limit: LARGE_AT_ONCE };
  const fetchObjects = async (missing: readonly Digest[]) => {
    total += missing.length;
    progress({ phase: 'download', done, total, bytes: report.objects.bytes });
    const r = await forEachLimit(missing, jobs, async (d) => settle(d, await download(objects, remote, d), objectKey(d)), large);
    for (const [d, err] of r.failed) failedObjects.set(d, err.message);
    return r.stopped;
  };
  let stopped = await fetchObjects(await localMissing(found.flatMap((e) => Object.values(e.outs).map((o) => o.digest))));
  const manifests = new Map<Digest, Digest[]>();
  if (!stopped) {
    const parts: { part: BundlePart; wanted: Set<string> }[] = [];
    const loose: Digest[] = [];
    for (const e of found) {
      for (const o of Object.values(e.outs)) {
        if (o.kind !== 'dir' || failedObjects.has(o.digest) || manifests.has(o.digest)) continue;
        let files;
        try { files = await objects.readManifest(o.digest); } catch { failedObjects.set(o.digest, `manifest ${o.digest} is not a directory listing`); continue; }
        if (!files.every((f) => safeRel(f.rel) && HEX64.test(f.digest))) { failedObjects.set(o.digest, `manifest ${o.digest} names a path outside its directory; refused`); continue; }
        manifests.set(o.digest, files.map((f) => asDigest(f.digest)));
        for (const f of files) sizes.set(f.digest, f.size);
        const split = bundleParts(o.digest, files);
        loose.push(...(await localMissing(split.loose)));
        for (const part of split.parts) {
          const wanted = new Set<string>(await localMissing(part.members.map((m) => m.digest)));
          if (wanted.size) parts.push({ part, wanted });
        }
      }
    }
    total += parts.reduce((n, p) => n + p.wanted.size, 0);
    const unbundled: Digest[] = [];
    const r = await forEachLimit(parts, jobs, async ({ part, wanted }) => {
      const got = await downloadPart(objects, remote, part, wanted);
      if (!got) { total -= wanted.size; unbundled.push(...(wanted as Set<Digest>)); return; }
      for (const [d, f] of got) settle(d, f, part.key);
    });
    for (const [{ wanted }, err] of r.failed) for (const d of wanted) failedObjects.set(d as Digest, err.message);
    stopped = r.stopped ?? (await fetchObjects([...loose, ...unbundled]));
  }
  if (stopped) report.unreachable = stopped.message;

  for (const e of found) {
    const needed = Object.values(e.outs).flatMap((o) => [o.digest, ...(manifests.get(o.digest) ?? [])]);
    const bad = needed.find((d) => failedObjects.has(d));
    if (!bad && !stopped && (await Promise.all(Object.values(e.outs).map((o) => objects.hasOutput(o)))).every(Boolean)) {
      await entries.put(e);
      report.entries.pulled++;
      report.pulled.push(e);
    } else {
      report.entries.failed++;
      report.problems.push({ what: e.stage, message: bad ? failedObjects.get(bad)! : `not pulled: ${stopped?.message ?? 'objects missing'}` });
    }
  }
  return report;
}
