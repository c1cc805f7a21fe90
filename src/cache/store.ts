// The content-addressed object store: `objects/ab/cdef...` named by the SHA-256 of their bytes.
// An object is written to a temp file while it is hashed, then renamed to its name, so a killed
// writer can leave temp files (collected by gc) but never a wrong or partial object. Before the
// rename the bytes are fsynced, or covered by this boot's write-back marker (write-back.ts), which
// lets a store opened after a crash find and remove what the crash tore.
import { createHash } from 'node:crypto';
import { closeSync, constants, createReadStream, fchmodSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, open, readFile, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { asDigest, type Digest } from '../core/brand.js';
import { tempName } from './atomic.js';
import { manifestText, parseManifest, type FileEntry, type PathDigest } from './digest-path.js';
import { sha256 } from './canonical.js';
import { removeLeftovers } from './leftovers.js';
import { WriteBack, type CrashCheck } from './write-back.js';

import type { StoredOutput } from '../core/run-events.js';

export type { StoredOutput };

/** Small files copied out of the store at once when restoring a directory. */
const COPIES_AT_ONCE = 8;
const COPY_SMALL_MAX = 1 << 20;
/**
 * Files up to this size are restored by a read and a write on the main thread: for a tree of
 * thousands of small files, each asynchronous copy-and-chmod (two trips through the I/O thread
 * pool) cost several times the copy itself.
 */
const COPY_INLINE_MAX = 64 << 10;

/**
 * Runs `fn` over each list with its own bound, all lists at once. The first failure stops every
 * list from starting more, and is thrown only once everything under way has ended (so a caller's
 * cleanup never races a copy still writing).
 */
async function eachLimit<T>(lists: [items: readonly T[], limit: number][], fn: (item: T) => Promise<void>): Promise<void> {
  let failed = false;
  const workers = lists.flatMap(([items, limit]) => {
    let next = 0;
    const worker = async () => {
      while (!failed && next < items.length) {
        try { await fn(items[next++]!); } catch (e) { failed = true; throw e; }
      }
    };
    return Array.from({ length: Math.min(limit, items.length) }, worker);
  });
  const settled = await Promise.allSettled(workers);
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
}

export class ObjectStore {
  readonly objectsDir: string;
  readonly tmpDir: string;
  /** Shard directories this process made or found (objects are never removed from under a writer but by gc). */
  private readonly shards = new Set<string>();
  private readonly writeBack: WriteBack;
  /** What opening this store checked after an unclean shutdown; undefined when there was none. */
  readonly crashCheck: CrashCheck | undefined;

  constructor(readonly root: string, writeBack?: WriteBack) {
    this.objectsDir = join(root, 'objects');
    this.tmpDir = join(root, 'tmp');
    this.writeBack = writeBack ?? new WriteBack(root, this.objectsDir);
    // Before anything reads an object: what a crash may have torn is never served.
    this.crashCheck = this.writeBack.recover();
    if (this.crashCheck?.unremovable.length) this.distrusted = new Set(this.crashCheck.unremovable.map((u) => u.digest));
  }

  /** Objects a crash check found torn or unreadable but could not remove: never served. */
  private readonly distrusted: ReadonlySet<string> | undefined;

  /** True when each object is fsynced before it gets its name (else write-back.ts's marker covers it). */
  get durable(): boolean { return this.writeBack.durable; }

  /** Called with an object's temp file written, before its rename: an fsync, or this boot's marker. */
  async makeSafe(fh: FileHandle): Promise<void> {
    if (this.writeBack.durable) await fh.sync(); else this.writeBack.beforeUnsynced();
  }

  objectPath(d: Digest): string {
    return join(this.objectsDir, d.slice(0, 2), d.slice(2));
  }

  async has(d: Digest): Promise<boolean> {
    // A local stat answers in microseconds; an asynchronous one that fails (the usual answer when
    // pulling) cost a thread-pool trip and an exception per object.
    return this.present(d);
  }

  private present(d: Digest): boolean {
    if (this.distrusted?.has(d)) return false;
    return statSync(this.objectPath(d), { throwIfNoEntry: false }) !== undefined;
  }

  /**
   * Copies a file into the store, hashing the exact bytes stored. `size`, when the caller knows it,
   * sends a small file down the synchronous path.
   */
  async putFile(absPath: string, knownSize?: number): Promise<{ digest: Digest; size: number }> {
    if (knownSize !== undefined && knownSize <= COPY_INLINE_MAX) {
      const small = this.putSmallFile(absPath);
      if (small) return small;
    }
    await mkdir(this.tmpDir, { recursive: true });
    const tmp = tempName(this.tmpDir, 'obj');
    const out = await open(tmp, 'w');
    const h = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of createReadStream(absPath, { highWaterMark: 1 << 20 })) {
        const b = chunk as Buffer;
        h.update(b);
        size += b.length;
        await out.write(b);
      }
      await this.makeSafe(out);
    } finally {
      await out.close();
    }
    const digest = asDigest(h.digest('hex'));
    await this.adopt(tmp, digest);
    return { digest, size };
  }

  /**
   * A small file in one read, one hash and one write, all synchronous: committing an output of 10k
   * small files through the asynchronous path cost about a dozen thread-pool trips per file, and on
   * a 2-core VM the threads' wake-ups (futex) took more system time than the copies. Undefined when
   * the file grew past the inline limit since it was looked at (the streaming path takes it).
   */
  private putSmallFile(absPath: string): { digest: Digest; size: number } | undefined {
    const data = readFileSync(absPath);
    if (data.length > COPY_INLINE_MAX) return undefined;
    const digest = sha256(data);
    if (!this.present(digest)) this.storeSync(data, digest);
    return { digest, size: data.length };
  }

  /** Bytes in memory under their digest: a read-only temp file, fsynced or under the marker, then renamed. */
  private storeSync(data: string | Uint8Array, digest: Digest): void {
    const tmp = tempName(this.tmpDir, 'obj');
    let fd: number;
    try { fd = openSync(tmp, 'w', 0o444); } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      mkdirSync(this.tmpDir, { recursive: true });
      fd = openSync(tmp, 'w', 0o444);
    }
    try {
      writeFileSync(fd, data);
      if (this.writeBack.durable) fsyncSync(fd);
    } finally { closeSync(fd); }
    if (!this.writeBack.durable) this.writeBack.beforeUnsynced();
    this.rename(tmp, digest);
  }

  /** Renames a read-only temp file to its object's name, making its shard once per process. */
  private rename(tmp: string, digest: Digest): void {
    const dest = this.objectPath(digest);
    const shard = dirname(dest);
    if (!this.shards.has(shard)) { mkdirSync(shard, { recursive: true }); this.shards.add(shard); }
    try {
      renameSync(tmp, dest);
    } catch (e) {
      // A gc in another process may have removed the shard this process made earlier.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      mkdirSync(shard, { recursive: true });
      renameSync(tmp, dest);
    }
  }

  async putBytes(data: string | Uint8Array): Promise<Digest> {
    const digest = sha256(data);
    if (!this.present(digest)) this.storeSync(data, digest);
    return digest;
  }

  /** Moves a verified temp file (in tmpDir) into the store under its digest. */
  async adopt(tmp: string, digest: Digest): Promise<void> {
    if (this.present(digest)) { await rm(tmp, { force: true }); return; }
    // Objects are immutable; read-only guards against an edit through a hardlinked copy.
    await chmod(tmp, 0o444);
    this.rename(tmp, digest);
  }

  /** Commits a workspace output (file or directory tree); returns what the cache entry records. */
  async putOutput(absPath: string, known: PathDigest): Promise<StoredOutput | undefined> {
    if (known.kind === 'missing') return undefined;
    if (known.kind === 'file') {
      const { digest, size } = await this.putFile(absPath, known.size);
      return { kind: 'file', digest, size, exec: known.exec };
    }
    const files: FileEntry[] = [];
    let size = 0;
    for (const f of known.files) {
      const put = await this.putFile(join(absPath, f.rel), f.size);
      files.push({ rel: f.rel, digest: put.digest, size: put.size, exec: f.exec });
      size += put.size;
    }
    const digest = await this.putBytes(manifestText(files));
    return { kind: 'dir', digest, fileCount: files.length, size };
  }

  async readManifest(d: Digest): Promise<FileEntry[]> {
    return parseManifest(await readFile(this.objectPath(d), 'utf8'));
  }

  /** True when every object an output needs is present. */
  async hasOutput(o: StoredOutput): Promise<boolean> {
    if (!(await this.has(o.digest))) return false;
    if (o.kind === 'file') return true;
    try {
      for (const f of await this.readManifest(o.digest)) if (!(await this.has(f.digest))) return false;
      return true;
    } catch { return false; }
  }

  /**
   * Writes an output into the workspace from the store: built beside the destination, then renamed
   * over it, so the workspace never shows a half-restored output. Returns what it wrote.
   */
  async materialize(o: StoredOutput, dest: string): Promise<PathDigest> {
    await mkdir(dirname(dest), { recursive: true });
    await removeLeftovers(dirname(dest));
    const staging = tempName(dirname(dest), 'restore');
    try {
      let wrote: PathDigest;
      if (o.kind === 'file') {
        await this.copyOut(o.digest, staging, o.exec, o.size);
        wrote = { kind: 'file', digest: o.digest, size: o.size, exec: o.exec };
      } else {
        await mkdir(staging);
        const files = await this.readManifest(o.digest);
        // Each directory made once, before the copies. Small files are copied a few at a time,
        // since each copy is a round trip through the I/O thread pool; large ones one at a time,
        // since concurrent in-kernel copies of large files slow each other down.
        const dirs = new Set(files.map((f) => dirname(join(staging, f.rel))));
        for (const d of dirs) if (d !== staging) await mkdir(d, { recursive: true });
        const small = files.filter((f) => f.size <= COPY_SMALL_MAX);
        const large = files.filter((f) => f.size > COPY_SMALL_MAX);
        const copy = (f: FileEntry) => this.copyOut(f.digest, join(staging, f.rel), f.exec, f.size);
        await eachLimit([[large, 1], [small, COPIES_AT_ONCE]], copy);
        wrote = { kind: 'dir', digest: o.digest, files };
      }
      await rm(dest, { recursive: true, force: true });
      await rename(staging, dest);
      return wrote;
    } catch (e) {
      await rm(staging, { recursive: true, force: true });
      throw e;
    }
  }

  private async copyOut(d: Digest, target: string, exec: boolean, size: number): Promise<void> {
    const mode = exec ? 0o755 : 0o644;
    if (size <= COPY_INLINE_MAX) {
      const data = readFileSync(this.objectPath(d));
      const fd = openSync(target, 'w');
      try {
        writeFileSync(fd, data);
        fchmodSync(fd, mode);
      } finally { closeSync(fd); }
      return;
    }
    // Reflink where the filesystem can (instant, no shared mutation), else a plain copy.
    await copyFile(this.objectPath(d), target, constants.COPYFILE_FICLONE);
    await chmod(target, mode);
  }

  /** Every object name in the store (for gc and verification). */
  async *listObjects(): AsyncGenerator<Digest> {
    let shards: string[];
    try { shards = await readdir(this.objectsDir); } catch { return; }
    for (const shard of shards.sort()) {
      for (const rest of (await readdir(join(this.objectsDir, shard))).sort()) {
        const name = shard + rest;
        if (/^[0-9a-f]{64}$/.test(name)) yield asDigest(name);
      }
    }
  }
}
