// A project on disk: its layout and the stores under .massflow/ (stat cache, objects, cache entries,
// last fingerprints), opened once and handed to whatever reads or writes them.
import { StatCache } from '../cache/digest-path.js';
import { EntryStore } from '../cache/entries.js';
import { FingerprintState } from '../cache/fingerprint-state.js';
import { ObjectStore } from '../cache/store.js';
import type { FingerprintObject } from '../plan/fingerprint.js';
import type { ProjectLayout } from './layout.js';
import type { RemoteCache } from '../remote/remote-cache.js';

export interface Project {
  layout: ProjectLayout;
  stat: StatCache;
  objects: ObjectStore;
  entries: EntryStore;
  fingerprints: FingerprintState<FingerprintObject>;
  /** The shared cache, when one is configured (see src/remote/attach.ts). */
  remote?: RemoteCache | undefined;
}

export function openProject(layout: ProjectLayout): Project {
  const objects = new ObjectStore(layout.cacheDir);
  return {
    layout,
    stat: new StatCache(layout.statDir),
    objects,
    entries: new EntryStore(layout.cacheDir, objects),
    fingerprints: new FingerprintState<FingerprintObject>(layout.fingerprintsDir),
  };
}
