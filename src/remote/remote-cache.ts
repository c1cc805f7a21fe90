// The remote as the project's cache layer sees it: look up a fingerprint's entry (memoised, so
// planning and running ask once), restore one into the local cache, push what runs made. Every
// failure is a value: a remote that is down costs a message, never a run.
import type { Digest, StageId } from '../core/brand.js';
import type { CacheEntry, EntryStore } from '../cache/entries.js';
import type { ObjectStore } from '../cache/store.js';
import type { RemoteConfig } from './config.js';
import { pullEntries, fetchEntry, type PullTarget } from './pull.js';
import { pushEntries, type OnProgress, type PushReport } from './push.js';
import type { RemoteStore } from './store.js';

export type RemoteRestore =
  | { kind: 'restored'; entry: CacheEntry; objects: number; bytes: number }
  | { kind: 'absent' }
  | { kind: 'failed'; message: string };

export class RemoteCache {
  private readonly lookups = new Map<Digest, Promise<CacheEntry | undefined>>();
  /** The first error the remote answered with, if any (lookups then count as misses). */
  problem: string | undefined;

  constructor(readonly config: RemoteConfig, readonly store: RemoteStore, private readonly objects: ObjectStore, private readonly entries: EntryStore) {}

  get url() { return this.config.url; }

  /** The remote's entry for a fingerprint, or undefined (also when the remote cannot be reached). */
  lookup(t: PullTarget): Promise<CacheEntry | undefined> {
    let p = this.lookups.get(t.fingerprint);
    if (!p) {
      p = this.problem ? Promise.resolve(undefined) : fetchEntry(this.store, t).catch((e: Error) => { this.problem ??= e.message; return undefined; });
      this.lookups.set(t.fingerprint, p);
    }
    return p;
  }

  /** Downloads an entry's missing objects (verified) and writes the local entry. */
  async restore(t: PullTarget): Promise<RemoteRestore> {
    if (!(await this.lookup(t))) return { kind: 'absent' };
    const r = await pullEntries(this.objects, this.entries, this.store, [t], this.config.jobs);
    const entry = r.pulled[0];
    if (entry) return { kind: 'restored', entry, objects: r.objects.downloaded, bytes: r.objects.bytes };
    if (r.entries.local) {
      const local = await this.entries.getComplete(t.fingerprint);
      if (local) return { kind: 'restored', entry: local, objects: 0, bytes: 0 };
    }
    return { kind: 'failed', message: r.problems[0]?.message ?? r.unreachable ?? 'the remote entry vanished' };
  }

  push(entries: readonly CacheEntry[], progress?: OnProgress): Promise<PushReport> {
    return pushEntries(this.objects, this.store, entries, this.config.jobs, progress);
  }

  pull(targets: readonly PullTarget[], progress?: OnProgress) {
    return pullEntries(this.objects, this.entries, this.store, targets, this.config.jobs, progress);
  }
}

/** A stage's pull target: its fingerprint and the outputs it declares. */
export const targetOf = (stage: { id: StageId; outs: readonly string[]; metrics: readonly string[] }, fingerprint: Digest): PullTarget =>
  ({ fingerprint, stage: stage.id, outs: [...stage.outs, ...stage.metrics] });
