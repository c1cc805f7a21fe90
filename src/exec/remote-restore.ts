// The stage runner's one question to the remote: is this fingerprint there? If so its objects are
// fetched (verified) into the local cache and the runner restores from there as from any entry.
import type { Digest } from '../core/brand.js';
import type { CacheEntry } from '../cache/entries.js';
import type { RemoteNote } from '../core/run-events.js';
import type { Project } from '../project/open.js';
import type { StageInstance } from '../spec/model.js';
import { targetOf } from '../remote/remote-cache.js';

/** An entry fetched from the remote (with a note for the reason), a refusal to report, or nothing there. */
export type FromRemote = { kind: 'fetched'; entry: CacheEntry; note: RemoteNote } | { kind: 'refused'; note: RemoteNote } | undefined;

export async function restoreFromRemote(project: Project, stage: StageInstance, fingerprint: Digest): Promise<FromRemote> {
  const remote = project.remote;
  if (!remote) return undefined;
  const r = await remote.restore(targetOf(stage, fingerprint));
  switch (r.kind) {
    case 'restored': return { kind: 'fetched', entry: r.entry, note: { kind: 'fetched', url: remote.url, objects: r.objects, bytes: r.bytes } };
    case 'absent': return undefined;
    case 'failed': return { kind: 'refused', note: { kind: 'refused', message: r.message } };
  }
}
