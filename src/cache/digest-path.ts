// Content digests of files and directory trees, backed by a stat cache: a file whose (size, mtime,
// inode) are unchanged is not read again, and a tree whose whole stat signature is unchanged is not
// even looked at file by file. Files modified within a second of being hashed are "racy" (an edit in
// the same mtime tick would go unnoticed) and are re-hashed on the next look.
import { hash } from 'node:crypto';
import { readdirSync, statSync, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../core/brand.js';
import { tempOwner, writeFileAtomic } from './atomic.js';
import { sha256 } from './canonical.js';
import { hashFile, hashSmallFileSync, SMALL_FILE } from './hash-file.js';
import { OffThreadHashing } from './hash-worker.js';

export interface FileEntry { rel: string; digest: Digest; size: number; exec: boolean }

export type PathDigest =
  | { kind: 'missing' }
  | { kind: 'file'; digest: Digest; size: number; exec: boolean }
  | { kind: 'dir'; digest: Digest; files: FileEntry[] };

/** Just the content digest of a path. */
export type ContentDigest = { kind: 'missing' } | { kind: 'file' | 'dir'; digest: Digest };

/** The directory manifest whose SHA-256 is the directory's digest (also stored as an object). */
export function manifestText(files: readonly FileEntry[]): string {
  return JSON.stringify({ format: 1, files: files.map((f) => [f.rel, f.digest, f.size, f.exec ? 1 : 0]) });
}

export function parseManifest(text: string): FileEntry[] {
  const m = JSON.parse(text) as { format: number; files: [string, Digest, number, number][] };
  return m.files.map(([rel, digest, size, exec]) => ({ rel, digest, size, exec: exec === 1 }));
}

/** One file as the stat cache keeps it; a tree's rows are in manifest order. */
type CachedRow = [rel: string, size: number, mtimeMs: number, ino: number, digest: Digest, exec: 0 | 1];
interface StatCacheFile { v: 2; path: string; sig: string; digest: Digest | null; racy: boolean; hashedAt: number; rows: CachedRow[] }

const RACY_MS = 1500;
const HASH_CONCURRENCY = 8;

/** What a walk keeps of a file's stat (not the Stats object: 10^5 of those, each with four Dates, are GC work). */
interface Listed { rel: string; size: number; mtimeMs: number; ino: number; exec: boolean; digest?: Digest | undefined }

/**
 * One stat walk of a file or tree: the signature of every regular file's (path, size, mtime, inode,
 * mode), whether any was modified too recently to trust, and (with `keep`) the stats themselves.
 * Names are visited sorted per directory, so the signature does not depend on readdir's order; the
 * walk concatenates paths and builds one string, since per-file path.join and hash updates cost more
 * than the stat calls at 10^5 files.
 */
function scan(root: string, top: Stats, keep: boolean, now: number, onFile?: (f: Listed) => void): { sig: string; racy: boolean; listed: Listed[] } {
  const listed: Listed[] = [];
  const parts: (string | number)[] = [];
  let racy = false;
  const add = (rel: string, st: Stats) => {
    parts.push(rel, '\0', st.size, '\0', st.mtimeMs, '\0', st.ino, '\0', st.mode, '\n');
    if (st.mtimeMs > now - RACY_MS) racy = true;
    if (!keep) return;
    const f: Listed = { rel, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, exec: (st.mode & 0o111) !== 0, digest: undefined };
    listed.push(f);
    onFile?.(f);
  };
  const walk = (dir: string, prefix: string) => {
    const ents = readdirSync(dir, { withFileTypes: true });
    ents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of ents) {
      // A writer's temp entry (ours, possibly orphaned by a kill) is never content.
      if (e.name.charCodeAt(0) === 46 /* . */ && tempOwner(e.name) !== undefined) continue;
      const rel = prefix + e.name;
      const abs = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(abs, `${rel}/`);
      else {
        // Follow symlinks: a dep that links elsewhere is its target's content.
        const st = e.isSymbolicLink() ? safeStat(abs) : statSync(abs);
        if (!st) continue;
        if (st.isDirectory()) walk(abs, `${rel}/`);
        else if (st.isFile()) add(rel, st);
      }
    }
  };
  if (top.isDirectory()) walk(root, ''); else add('', top);
  const sig = `${top.isDirectory() ? 'd' : 'f'}2:${hash('sha1', parts.join(''), 'hex')}`;
  return { sig, racy, listed };
}

/** Manifest order: by path, as plain string comparison (the digest of a tree depends on it). */
const byRel = (a: Listed, b: Listed) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0);

function safeStat(p: string): Stats | undefined {
  try { return statSync(p); } catch { return undefined; }
}

export class StatCache {
  constructor(private readonly stateDir: string) {}

  private fileFor(absPath: string): string {
    return join(this.stateDir, `${sha256(absPath).slice(0, 32)}.json`);
  }

  private sigFileFor(absPath: string): string {
    return join(this.stateDir, `${sha256(absPath).slice(0, 32)}.sig`);
  }

  /** The small companion file: when the tree's signature matches, the big entries file is never read. */
  private async loadSig(absPath: string): Promise<{ sig: string; digest: Digest; kind: 'file' | 'dir'; size: number; exec: boolean } | undefined> {
    try { return JSON.parse(await readFile(this.sigFileFor(absPath), 'utf8')); } catch { return undefined; }
  }

  private async load(absPath: string): Promise<StatCacheFile | undefined> {
    try {
      const f = JSON.parse(await readFile(this.fileFor(absPath), 'utf8')) as StatCacheFile;
      return f.v === 2 && f.path === absPath && Array.isArray(f.rows) ? f : undefined;
    } catch { return undefined; }
  }

  /** The digest alone; cheaper than `digest` when nothing changed (the per-file list is not loaded). */
  async digestOnly(absPath: string): Promise<ContentDigest> {
    const top = safeStat(absPath);
    if (!top) return { kind: 'missing' };
    const { sig, racy } = scan(absPath, top, false, Date.now());
    const fast = racy ? undefined : await this.loadSig(absPath);
    if (fast && fast.sig === sig) return { kind: fast.kind, digest: fast.digest };
    const full = await this.digest(absPath);
    return full.kind === 'missing' ? full : { kind: full.kind, digest: full.digest };
  }

  /** The content digest of a file or tree, hashing only what changed since the last look. */
  async digest(absPath: string): Promise<PathDigest> {
    const top = safeStat(absPath);
    if (!top) return { kind: 'missing' };
    const cached = await this.load(absPath);
    const now = Date.now();
    // Never seen (or its cache lost): every small file is read, on the worker while the walk goes on.
    const offThread = cached ? undefined : new OffThreadHashing();
    const pathOf = (rel: string) => (rel ? `${absPath}/${rel}` : absPath); // rel is a walk's own '/'-joined names
    const { sig, racy, listed } = scan(absPath, top, true, now, offThread && ((f) => {
      if (f.size < SMALL_FILE) offThread.add(pathOf(f.rel), f.size, (d) => { f.digest = d; });
    }));
    listed.sort(byRel);
    if (cached && cached.sig === sig && !cached.racy && cached.digest) return this.fromCache(top, cached);
    await offThread?.settle();

    const rows: CachedRow[] = new Array(listed.length);
    const files: FileEntry[] = new Array(listed.length);
    const record = (i: number, digest: Digest) => {
      const f = listed[i]!;
      rows[i] = [f.rel, f.size, f.mtimeMs, f.ino, digest, f.exec ? 1 : 0];
      files[i] = { rel: f.rel, digest, size: f.size, exec: f.exec };
    };
    // A row is trusted when its stat is unchanged and was already old when it was hashed. Both lists
    // are in manifest order, so one merge pass finds each file's row (no map of 10^5 paths).
    const trustedBefore = cached ? cached.hashedAt - RACY_MS : -Infinity;
    const old = cached?.rows ?? [];
    let j = 0;
    const large: number[] = [];
    for (let i = 0; i < listed.length; i++) {
      const f = listed[i]!;
      while (j < old.length && old[j]![0] < f.rel) j++;
      const o = j < old.length && old[j]![0] === f.rel ? old[j] : undefined;
      const known = (o && o[1] === f.size && o[2] === f.mtimeMs && o[3] === f.ino && o[2] < trustedBefore ? o[4] : undefined) ?? f.digest;
      // Small files one after the other, synchronously: async round trips would cost more than the reads.
      const digest = known ?? (f.size < SMALL_FILE ? hashSmallFileSync(pathOf(f.rel), f.size) : undefined);
      if (digest === undefined) large.push(i); else record(i, digest);
    }
    // Large files (and any that grew past the small-file size since the walk) stream, a few at once.
    let next = 0;
    const streamer = async () => {
      for (let k = next++; k < large.length; k = next++) {
        const i = large[k]!;
        record(i, (await hashFile(pathOf(listed[i]!.rel))).digest);
      }
    };
    await Promise.all(Array.from({ length: Math.min(HASH_CONCURRENCY, large.length) }, streamer));
    const result = this.result(top, files);
    await this.save(absPath, { v: 2, path: absPath, sig, racy, hashedAt: now, digest: result.kind === 'missing' ? null : result.digest, rows }, result);
    return result;
  }

  /**
   * Records what a file or tree just written from the cache holds (`known`: the stored output's
   * files), so the next look does not hash it again. Each file is stat'ed now and kept under the
   * same rules as one hashed now (a file written within RACY_MS is hashed again by the next full
   * look). Anything on disk that is not exactly `known` (another file, a size or mode that differs)
   * records nothing, and the next look hashes as usual.
   */
  async record(absPath: string, known: PathDigest): Promise<void> {
    const top = safeStat(absPath);
    if (!top || known.kind === 'missing') return;
    const now = Date.now();
    const { sig, racy, listed } = scan(absPath, top, true, now);
    listed.sort(byRel);
    const knownByRel = new Map<string, { digest: Digest; size: number; exec: boolean }>(known.kind === 'file' ? [['', known]] : known.files.map((f) => [f.rel, f]));
    if (listed.length !== knownByRel.size) return;
    const rows: CachedRow[] = [];
    for (const f of listed) {
      const k = knownByRel.get(f.rel);
      if (!k || k.size !== f.size || k.exec !== f.exec) return;
      rows.push([f.rel, f.size, f.mtimeMs, f.ino, k.digest, f.exec ? 1 : 0]);
    }
    await this.save(absPath, { v: 2, path: absPath, sig, racy, hashedAt: now, digest: known.digest, rows }, known);
  }

  /**
   * A cache, not a record: a lost or torn file is only a re-hash, so neither file is fsynced, and
   * the rows are compact JSON (10^5 of them are parsed on the next look that needs them).
   */
  private async save(absPath: string, file: StatCacheFile, result: PathDigest): Promise<void> {
    await writeFileAtomic(this.fileFor(absPath), JSON.stringify(file), { durable: false }).catch(() => undefined); // a read-only project still works, just slower
    if (result.kind !== 'missing') {
      const small = { sig: file.sig, kind: result.kind, digest: result.digest, size: 0, exec: false };
      await writeFileAtomic(this.sigFileFor(absPath), JSON.stringify(small), { durable: false }).catch(() => undefined);
    }
  }

  /** The tree as cached: its signature matched, so its rows are exactly the walk's files, in order. */
  private fromCache(top: Stats, cached: StatCacheFile): PathDigest {
    return this.result(top, cached.rows.map(([rel, size, , , digest, exec]) => ({ rel, digest, size, exec: exec === 1 })));
  }

  private result(top: Stats, files: FileEntry[]): PathDigest {
    if (!top.isDirectory()) {
      const f = files[0]!;
      return { kind: 'file', digest: f.digest, size: f.size, exec: f.exec };
    }
    return { kind: 'dir', digest: sha256(manifestText(files)), files };
  }
}
