// Per-output locks between concurrent massflow processes. A lock file names its owner (pid, host,
// process start time, run, stage); a waiter polls, says whom it waits for, and takes over a lock
// whose owner is dead (same host and the pid is gone or belongs to a newer process).
import { hostname } from 'node:os';
import { mkdir, open, readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from './canonical.js';

import type { LockOwner } from '../core/run-events.js';

export type { LockOwner };

export interface Lock { path: string; release(): Promise<void> }

/** Asked for a lock the same run already holds for another stage: waiting would never end. */
export class SelfLockError extends Error {
  constructor(readonly resource: string, readonly holder: string, readonly requester: string) {
    super(`'${resource}' is locked by stage '${holder}' of this same run, so stage '${requester}' cannot take it`);
  }
}

interface Held { runId: string; stage: string; count: number }

const POLL_MS = 150;

/** Identifies a process incarnation so a recycled pid is not mistaken for the owner. */
export function processStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime) follows the parenthesised comm, which may contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch { return ''; }
}

export function ownerAlive(o: LockOwner): boolean {
  if (o.host !== hostname()) return true; // cannot check another host; its owner must release
  try { process.kill(o.pid, 0); } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false; }
  const start = processStart(o.pid);
  return start === '' || o.procStart === '' || start === o.procStart;
}

export class LockManager {
  private readonly me: Omit<LockOwner, 'runId' | 'stage' | 'since'>;
  /** Locks this process holds, by lock file: a run never waits on itself (see acquire). */
  private readonly held = new Map<string, Held>();
  constructor(private readonly dir: string) {
    this.me = { pid: process.pid, host: hostname(), procStart: processStart(process.pid) };
  }

  lockPath(resource: string) { return join(this.dir, `${sha256(resource).slice(0, 24)}.lock`); }

  /**
   * Takes the lock, waiting (and calling onWait once per new owner) while a live owner holds it.
   * A run never waits on a lock it holds itself: the same stage asking again shares the lock (it is
   * released when every holder released it), and another stage of the same run gets SelfLockError.
   */
  async acquire(resource: string, who: { runId: string; stage: string }, onWait: (owner: LockOwner) => void, signal?: AbortSignal): Promise<Lock> {
    await mkdir(this.dir, { recursive: true });
    const path = this.lockPath(resource);
    const owner: LockOwner = { ...this.me, ...who, since: new Date().toISOString() };
    let lastReported = '';
    for (;;) {
      signal?.throwIfAborted();
      const mine = this.held.get(path);
      if (mine && mine.runId === who.runId) {
        if (mine.stage !== who.stage) throw new SelfLockError(resource, mine.stage, who.stage);
        mine.count++;
        return { path, release: () => this.release(path) };
      }
      try {
        const fh = await open(path, 'wx');
        await fh.writeFile(JSON.stringify({ ...owner, resource }));
        await fh.close();
        this.held.set(path, { runId: who.runId, stage: who.stage, count: 1 });
        return { path, release: () => this.release(path) };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const held = await readOwner(path);
      // A lock file naming this process and run that this manager does not hold was left behind by
      // it (a release that failed): waiting for ourselves would never end.
      if (held && this.isMe(held) && held.runId === who.runId && !this.held.has(path)) { await rm(path, { force: true }); continue; }
      if (held && !ownerAlive(held)) { await this.takeOver(path, held); continue; }
      if (!held && (await staleEmpty(path))) { await rm(path, { force: true }); continue; }
      if (held) {
        const key = `${held.pid}@${held.host}/${held.runId}`;
        if (key !== lastReported) { lastReported = key; onWait(held); }
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  private isMe(o: LockOwner): boolean {
    return o.pid === this.me.pid && o.host === this.me.host && o.procStart === this.me.procStart;
  }

  private async release(path: string): Promise<void> {
    const mine = this.held.get(path);
    if (mine && --mine.count > 0) return;
    this.held.delete(path);
    await rm(path, { force: true });
  }

  /**
   * Removes the lock files whose owner died without releasing them (a waiter takes such a lock over,
   * but one nobody waits for stays), empty ones a killed owner left, and old take-over guards.
   * Returns how many went.
   */
  async removeDead(dryRun = false): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      const path = join(this.dir, name);
      if (name.endsWith('.lock')) {
        const held = await readOwner(path);
        if (held ? ownerAlive(held) : !(await staleEmpty(path))) continue;
        removed++;
        if (!dryRun) { if (held) await this.takeOver(path, held); else await rm(path, { force: true }); }
      } else if (name.endsWith('.lock.takeover') && !dryRun) await removeOldGuard(path);
    }
    return removed;
  }

  /** Removes a dead owner's lock under a guard so two takers cannot remove each other's fresh lock. */
  private async takeOver(path: string, dead: LockOwner): Promise<void> {
    const guard = `${path}.takeover`;
    try { await mkdir(guard); } catch {
      // Another taker is at it; a guard left by a taker that died is old and can go.
      await removeOldGuard(guard);
      return;
    }
    try {
      const now = await readOwner(path);
      if (now && now.pid === dead.pid && now.procStart === dead.procStart && now.since === dead.since) await rm(path, { force: true });
    } finally {
      await rmdir(guard).catch(() => undefined);
    }
  }
}

/** A take-over guard older than any take-over takes was left by a taker that died. */
async function removeOldGuard(guard: string): Promise<void> {
  const st = await stat(guard).catch(() => undefined);
  if (st && Date.now() - st.mtimeMs > 10_000) await rmdir(guard).catch(() => undefined);
}

/** A lock file left empty by an owner killed between creating and writing it. */
async function staleEmpty(path: string): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  return st !== undefined && st.size === 0 && Date.now() - st.mtimeMs > 5_000;
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try { return JSON.parse(await readFile(path, 'utf8')) as LockOwner; } catch { return undefined; }
}
