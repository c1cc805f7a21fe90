// What a killed runner leaves in the workspace and in .massflow/: a restore's staging directory
// beside the output is neither content nor kept, and gc removes the lock files of dead owners.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { LockManager, processStart } from '../../src/cache/locks.js';
import { Rig } from './rig.js';

let rig: Rig;
afterEach(() => rig?.cleanup());

const FILES = 800;
// fold writes a directory output of many small files (so its restore takes a while); sum reads the
// whole models/ directory, where the restore of models/fold-0 stages its copy.
const PIPELINE = [
  'name: leftovers',
  'stages:',
  '  fold:',
  `    cmd: [node, -e, "const fs=require('fs');fs.mkdirSync('models/fold-0',{recursive:true});for(let i=0;i<${FILES};i++)fs.writeFileSync('models/fold-0/f'+i,'x'+i)"]`,
  '    outs: [models/fold-0]',
  '  sum:',
  `    cmd: [node, -e, "const fs=require('fs');fs.writeFileSync('sum.txt',String(fs.readdirSync('models',{recursive:true}).length))"]`,
  '    deps: [models]',
  '    outs: [sum.txt]',
  '',
].join('\n');

/** A pid that certainly names no process now: a child that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('leftovers of killed runs', () => {
  it('a kill mid-restore leaves staging the next status ignores and the next run removes', async () => {
    rig = Rig.create({ 'pipelines/p.yaml': PIPELINE });
    expect((await rig.run(['run', 'pipelines/p.yaml'])).code).toBe(0);
    expect(rig.read('sum.txt')).toBe(String(FILES + 1));
    const staging = () => readdirSync(rig.path('models')).filter((n) => n.startsWith('.restore.tmp-'));

    // Kill the runner while it copies fold-0 back from the cache.
    let caught = false;
    for (let attempt = 0; attempt < 5 && !caught; attempt++) {
      spawnSync('rm', ['-rf', rig.path('models/fold-0')]);
      const p = rig.spawn(['run', 'pipelines/p.yaml', 'fold']);
      for (let i = 0; i < 4000 && p.exitCode === null && !caught; i++) {
        if (staging().length) { p.kill('SIGKILL'); caught = true; } else await sleep(2);
      }
      await p;
    }
    expect(caught).toBe(true);
    expect(staging()).toHaveLength(1);

    // The leftover is no content: once fold-0 is back in place, nothing is stale because of it.
    const restore = await rig.run(['run', 'pipelines/p.yaml']);
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(/restored\s+fold/);
    expect(restore.stdout).not.toMatch(/ran\s+sum/);
    // ... and the restore removed it: models/ holds exactly what a clean run leaves.
    expect(readdirSync(rig.path('models'))).toEqual(['fold-0']);
    expect(readdirSync(rig.path('models/fold-0'))).toHaveLength(FILES);
    const st = await rig.run(['status', 'pipelines/p.yaml']);
    expect(st.stdout).toMatch(/fold\s+fresh/);
    expect(st.stdout).toMatch(/sum\s+fresh/);
  }, 120_000);

  it('status ignores a dead writer\'s staging and the next run removes it before any stage reads it; a live writer\'s stays', async () => {
    rig = Rig.create({ 'pipelines/p.yaml': PIPELINE.replace(`${FILES}`, '3') });
    expect((await rig.run(['run', 'pipelines/p.yaml'])).code).toBe(0);
    const dead = `.restore.tmp-${deadPid()}-0123abcd`;
    const live = `.restore.tmp-${process.pid}-4567cdef`;
    for (const n of [dead, live]) { mkdirSync(rig.path(`models/${n}`)); writeFileSync(rig.path(`models/${n}/f0`), 'partial'); }
    const st = await rig.run(['status', 'pipelines/p.yaml']);
    expect(st.stdout).toMatch(/fold\s+fresh/);
    expect(st.stdout).toMatch(/sum\s+fresh/);
    // sum, rerun, reads models/: the dead writer's staging is gone before it starts (3 files,
    // fold-0 and the live writer's directory with its file), the live writer's is left alone.
    expect((await rig.run(['run', 'pipelines/p.yaml', 'sum', '-f'])).code).toBe(0);
    expect(readdirSync(rig.path('models')).sort()).toEqual([live, 'fold-0'].sort());
    expect(rig.read('sum.txt')).toBe('6');
  }, 60_000);

  it('gc removes lock files whose owner died and keeps a live owner\'s', async () => {
    rig = Rig.create({ 'pipelines/p.yaml': PIPELINE.replace(`${FILES}`, '3') });
    const lm = new LockManager(rig.path('.massflow/locks'));
    mkdirSync(rig.path('.massflow/locks'), { recursive: true });
    const owner = (pid: number, runId: string) => JSON.stringify({ pid, host: hostname(), procStart: processStart(pid), runId, stage: 'fold', since: new Date().toISOString(), resource: runId });
    writeFileSync(lm.lockPath('dead-1'), owner(deadPid(), 'dead-1'));
    writeFileSync(lm.lockPath('dead-2'), owner(deadPid(), 'dead-2'));
    writeFileSync(lm.lockPath('live'), owner(process.pid, 'live'));
    const dry = await rig.run(['gc', '--dry-run']);
    expect(dry.stdout).toContain('would remove 2 lock files of dead runs\n');
    expect(readdirSync(rig.path('.massflow/locks'))).toHaveLength(3);
    const gc = await rig.run(['gc']);
    expect(gc.code).toBe(0);
    expect(gc.stdout).toContain('removed 2 lock files of dead runs\n');
    expect(readdirSync(rig.path('.massflow/locks'))).toEqual([lm.lockPath('live').split('/').pop()]);
  });
});
