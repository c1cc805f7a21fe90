// The warm no-op path (status, and a run that executes nothing) trusts a file whose size, mtime and
// inode match its last look, unless that look was inside the mtime's racy window: an edit there that
// keeps the size and the mtime is still noticed by both commands, which read the same state.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { Rig, normalize } from './rig.js';

let rig: Rig;
afterEach(() => rig?.cleanup());

describe('warm no-op status and run', () => {
  it('notice a same-size edit that keeps the mtime, made right after the last look', async () => {
    rig = Rig.create({
      'massflow.yaml': 'name: f\nstages:\n  s: { cmd: [sh, -c, "cat data/x.txt > out.txt"], deps: [data], outs: [out.txt] }\n',
      'data/x.txt': 'aaaa\n',
    });
    const file = rig.path('data/x.txt');
    // An mtime ahead of the clock stands for "modified within the filesystem's timestamp tick of the
    // look" on any machine, however slowly the first run starts.
    const tick = new Date(Date.now() + 60_000);
    utimesSync(file, tick, tick);
    expect((await rig.run(['run'])).code).toBe(0);
    expect((await rig.run(['status'])).stdout).toBe('s  fresh  up to date\nf: 1 fresh, 0 restorable from cache, 0 stale\n');

    const before = statSync(file);
    writeFileSync(file, 'bbbb\n');
    utimesSync(file, before.atime, before.mtime);
    const after = statSync(file);
    expect([after.size, after.mtimeMs, after.ino]).toEqual([before.size, before.mtimeMs, before.ino]);

    const st = await rig.run(['status']);
    expect(st.stdout).toMatch(/^s {2}stale {2}.*data/m);
    const run = await rig.run(['run']);
    expect(run.code).toBe(0);
    expect(normalize(run.stdout)).toContain('succeeded: 1 ran, 0 restored, 0 fresh');
    expect(readFileSync(rig.path('out.txt'), 'utf8')).toBe('bbbb\n');
    // Once seen, the edit is the state: the next run is a no-op again.
    expect(normalize((await rig.run(['run'])).stdout)).toContain('succeeded: 0 ran, 0 restored, 1 fresh');
  });
});
