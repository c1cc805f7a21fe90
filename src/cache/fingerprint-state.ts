// The last fingerprint object of each stage, kept so `massflow why` can say what changed.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StageId } from '../core/brand.js';
import type { FingerprintObject } from '../plan/fingerprint.js';
import { writeJsonAtomic } from './atomic.js';

export class FingerprintState {
  constructor(private readonly dir: string) {}

  private path(id: StageId) { return join(this.dir, `${encodeURIComponent(id)}.json`); }

  async get(id: StageId): Promise<FingerprintObject | undefined> {
    try { return JSON.parse(await readFile(this.path(id), 'utf8')) as FingerprintObject; } catch { return undefined; }
  }

  async put(id: StageId, fp: FingerprintObject): Promise<void> {
    await writeJsonAtomic(this.path(id), fp);
  }
}
