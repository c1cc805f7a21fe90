// The run cache: fingerprint -> the outputs a stage produced. An entry is written only after every
// object it names is in the store, so an entry never points at a missing object.
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest, RunId, StageId } from '../core/brand.js';
import { writeJsonAtomic } from './atomic.js';
import type { ObjectStore, StoredOutput } from './store.js';

export interface CacheEntry {
  format: 1;
  fingerprint: Digest;
  stage: StageId;
  /** Project-relative output path -> what was stored. */
  outs: Record<string, StoredOutput>;
  runId: RunId;
  createdAt: string;
  durationMs: number;
}

export class EntryStore {
  readonly dir: string;
  constructor(root: string, private readonly objects: ObjectStore) {
    this.dir = join(root, 'entries');
  }

  private path(fp: Digest) { return join(this.dir, fp.slice(0, 2), `${fp.slice(2)}.json`); }

  async get(fp: Digest): Promise<CacheEntry | undefined> {
    try {
      const e = JSON.parse(await readFile(this.path(fp), 'utf8')) as CacheEntry;
      return e.format === 1 && e.fingerprint === fp ? e : undefined;
    } catch { return undefined; }
  }

  /** An entry whose objects are all present (a gc'd or damaged one counts as absent). */
  async getComplete(fp: Digest): Promise<CacheEntry | undefined> {
    const e = await this.get(fp);
    if (!e) return undefined;
    for (const o of Object.values(e.outs)) if (!(await this.objects.hasOutput(o))) return undefined;
    return e;
  }

  async put(e: CacheEntry): Promise<void> {
    await writeJsonAtomic(this.path(e.fingerprint), e);
  }

  async remove(fp: Digest): Promise<void> {
    await rm(this.path(fp), { force: true });
  }

  async *list(): AsyncGenerator<CacheEntry> {
    let shards: string[];
    try { shards = await readdir(this.dir); } catch { return; }
    for (const shard of shards) {
      for (const f of await readdir(join(this.dir, shard))) {
        if (!f.endsWith('.json')) continue;
        try { yield JSON.parse(await readFile(join(this.dir, shard, f), 'utf8')) as CacheEntry; } catch { /* torn temp names never end in .json */ }
      }
    }
  }
}
