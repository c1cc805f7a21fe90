// The last fingerprint object of each stage, kept so `massflow why` can say what changed. The cache
// stores it as JSON; what it holds is the planner's (plan/fingerprint.ts), named by the type parameter.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StageId } from '../core/brand.js';
import { writeJsonAtomic } from './atomic.js';

export class FingerprintState<T> {
  constructor(private readonly dir: string) {}

  private path(id: StageId) { return join(this.dir, `${encodeURIComponent(id)}.json`); }

  async get(id: StageId): Promise<T | undefined> {
    try { return JSON.parse(await readFile(this.path(id), 'utf8')) as T; } catch { return undefined; }
  }

  async put(id: StageId, fp: T): Promise<void> {
    await writeJsonAtomic(this.path(id), fp);
  }
}
