// The lock invariant: a run never waits on a lock it holds itself, whatever path leads there.
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LockManager, processStart, SelfLockError } from '../../src/cache/locks.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const fresh = () => { dir = mkdtempSync(join(tmpdir(), 'massflow-locks-')); return new LockManager(join(dir, 'locks')); };
const noWait = () => { throw new Error('waited on its own lock'); };

describe('LockManager', () => {
  it('lets the stage holding a lock take it again, and frees it after the last release', async () => {
    const lm = fresh();
    const who = { runId: 'r1', stage: 'train' };
    const a = await lm.acquire('m.json', who, noWait);
    const b = await lm.acquire('m.json', who, noWait);
    await a.release();
    expect(existsSync(lm.lockPath('m.json'))).toBe(true);
    await b.release();
    expect(existsSync(lm.lockPath('m.json'))).toBe(false);
  });

  it('refuses, without waiting, a lock that another stage of the same run holds', async () => {
    const lm = fresh();
    await lm.acquire('x.txt', { runId: 'r1', stage: 'a' }, noWait);
    await expect(lm.acquire('x.txt', { runId: 'r1', stage: 'b' }, noWait)).rejects.toThrow(SelfLockError);
    await expect(lm.acquire('x.txt', { runId: 'r1', stage: 'b' }, noWait)).rejects.toThrow("'x.txt' is locked by stage 'a' of this same run, so stage 'b' cannot take it");
  });

  it('clears a lock file this process and run left behind instead of waiting for itself', async () => {
    const lm = fresh();
    mkdirSync(join(dir, 'locks'), { recursive: true });
    writeFileSync(lm.lockPath('y.txt'), JSON.stringify({ pid: process.pid, host: hostname(), procStart: processStart(process.pid), runId: 'r1', stage: 'a', since: 'x' }));
    const l = await lm.acquire('y.txt', { runId: 'r1', stage: 'a' }, noWait);
    await l.release();
  });

  it('still waits for another run of the same process until it releases', async () => {
    const lm = fresh();
    const first = await lm.acquire('z.txt', { runId: 'r1', stage: 'a' }, noWait);
    const waits: string[] = [];
    const second = lm.acquire('z.txt', { runId: 'r2', stage: 'a' }, (o) => waits.push(o.runId));
    await new Promise((r) => setTimeout(r, 300));
    expect(waits).toEqual(['r1']);
    await first.release();
    await (await second).release();
  });
});
