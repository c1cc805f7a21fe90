// Content digests of files and directory trees, backed by a stat cache: a file whose (size, mtime,
// inode) are unchanged is not read again, and a tree whose whole stat signature is unchanged is not
// even looked at file by file. Files modified within a second of being hashed are "racy" (an edit in
// the same mtime tick would go unnoticed) and are re-hashed on the next look.
import { hash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../core/brand.js';
import { tempOwner, writeJsonAtomic } from './atomic.js';
import { sha256 } from './canonical.js';
import { hashFile } from './hash-file.js';

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

type CachedEntry = [size: number, mtimeMs: number, ino: number, digest: Digest, exec: 0 | 1];
interface StatCacheFile { v: 1; path: string; sig: string; digest: Digest | null; racy: boolean; hashedAt: number; entries: Record<string, CachedEntry> }

const RACY_MS = 1500;
const SMALL_FILE = 256 * 1024;
const HASH_CONCURRENCY = 8;

interface Listed { rel: string; st: Stats }

/**
 * One stat walk of a file or tree: the signature of every regular file's (path, size, mtime, inode,
 * mode), whether any was modified too recently to trust, and (with `keep`) the stats themselves.
 * Names are visited sorted per directory, so the signature does not depend on readdir's order; the
 * walk concatenates paths and builds one string, since per-file path.join and hash updates cost more
 * than the stat calls at 10^5 files.
 */
function scan(root: string, top: Stats, keep: boolean, now: number): { sig: string; racy: boolean; listed: Listed[] } {
  const listed: Listed[] = [];
  const parts: (string | number)[] = [];
  let racy = false;
  const add = (rel: string, st: Stats) => {
    parts.push(rel, '\0', st.size, '\0', st.mtimeMs, '\0', st.ino, '\0', st.mode, '\n');
    if (st.mtimeMs > now - RACY_MS) racy = true;
    if (keep) listed.push({ rel, st });
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

const isExec = (st: Stats) => (st.mode & 0o111) !== 0;

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
      return f.v === 1 && f.path === absPath ? f : undefined;
    } catch { return undefined; }
  }

  /** The content digest of a file or tree, hashing only what changed since the last look. */
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

  async digest(absPath: string): Promise<PathDigest> {
    const top = safeStat(absPath);
    if (!top) return { kind: 'missing' };
    const now = Date.now();
    const { sig, racy, listed } = scan(absPath, top, true, now);
    listed.sort(byRel);
    const cached = await this.load(absPath);
    if (cached && cached.sig === sig && !cached.racy && cached.digest) return this.fromCache(top, cached, listed);

    const entries: Record<string, CachedEntry> = {};
    const files: FileEntry[] = new Array(listed.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < listed.length; i = next++) {
        const { rel, st } = listed[i]!;
        const old = cached?.entries[rel];
        let digest: Digest;
        if (old && cached && old[0] === st.size && old[1] === st.mtimeMs && old[2] === st.ino && old[1] < cached.hashedAt - RACY_MS) {
          digest = old[3];
        } else {
          const path = rel ? `${absPath}/${rel}` : absPath; // rel is a walk's own '/'-joined names
          // Small files: one synchronous read beats the async open/read/close round trips.
          digest = st.size < SMALL_FILE ? sha256(readFileSync(path)) : (await hashFile(path)).digest;
        }
        entries[rel] = [st.size, st.mtimeMs, st.ino, digest, isExec(st) ? 1 : 0];
        files[i] = { rel, digest, size: st.size, exec: isExec(st) };
      }
    };
    await Promise.all(Array.from({ length: Math.min(HASH_CONCURRENCY, listed.length) }, worker));
    const result = this.result(top, files);
    await this.save(absPath, { v: 1, path: absPath, sig, racy, hashedAt: now, digest: result.kind === 'missing' ? null : result.digest, entries }, result);
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
    const byRel = new Map<string, { digest: Digest; size: number; exec: boolean }>(known.kind === 'file' ? [['', known]] : known.files.map((f) => [f.rel, f]));
    if (listed.length !== byRel.size) return;
    const entries: Record<string, CachedEntry> = {};
    for (const { rel, st } of listed) {
      const f = byRel.get(rel);
      if (!f || f.size !== st.size || f.exec !== isExec(st)) return;
      entries[rel] = [st.size, st.mtimeMs, st.ino, f.digest, f.exec ? 1 : 0];
    }
    await this.save(absPath, { v: 1, path: absPath, sig, racy, hashedAt: now, digest: known.digest, entries }, known);
  }

  private async save(absPath: string, file: StatCacheFile, result: PathDigest): Promise<void> {
    await writeJsonAtomic(this.fileFor(absPath), file).catch(() => undefined); // a read-only project still works, just slower
    if (result.kind !== 'missing') {
      const small = { sig: file.sig, kind: result.kind, digest: result.digest, size: 0, exec: false };
      await writeJsonAtomic(this.sigFileFor(absPath), small).catch(() => undefined);
    }
  }

  private fromCache(top: Stats, cached: StatCacheFile, listed: Listed[]): PathDigest {
    const files = listed.map(({ rel }) => {
      const e = cached.entries[rel]!;
      return { rel, digest: e[3], size: e[0], exec: e[4] === 1 };
    });
    return this.result(top, files);
  }

  private result(top: Stats, files: FileEntry[]): PathDigest {
    if (!top.isDirectory()) {
      const f = files[0]!;
      return { kind: 'file', digest: f.digest, size: f.size, exec: f.exec };
    }
    return { kind: 'dir', digest: sha256(manifestText(files)), files };
  }
}
