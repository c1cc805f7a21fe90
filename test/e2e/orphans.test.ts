// Stages die with their runner: SIGKILL of the `massflow run` process alone (not its group), at
// several points, leaves no process of that run behind (TS stage children, cmd stages, and the
// processes those started), even while a TS stage computes without yielding. A lock taken over from
// a dead runner first stops the stage group it names, so the next run never races an orphan.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LockManager, processStart } from '../../src/cache/locks.js';
import { until } from '../slurm/cluster.js';
import { lastRunId, processesOfRun } from '../python/python-env.js';
import { DEFINE_URL, Rig } from './rig.js';

const TS_STAGE = (busy: boolean) => `
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { defineStage } from '${DEFINE_URL}';
export default defineStage({
  async run(ctx) {
    spawn('sleep', ['300'], { stdio: 'ignore' });
    writeFileSync('started-' + ctx.stageId, '');
    ${busy ? 'const end = Date.now() + 60_000; while (Date.now() < end) {} // never yields' : 'await new Promise((r) => setTimeout(r, 60_000));'}
  },
});
`;

const PIPE = `
name: orphans
stages:
  ts-wait: { run: stages/wait.ts, outs: [out/ts-wait.txt], cache: false }
  ts-busy: { run: stages/busy.ts, outs: [out/ts-busy.txt], cache: false }
  sh: { cmd: [bash, -c, "sleep 300 & sleep 300 & touch started-sh; wait"], outs: [out/sh.txt], cache: false }
`;

let rig: Rig | undefined;
afterAll(() => rig?.cleanup());

describe('a runner killed with SIGKILL', () => {
  it('takes every stage process with it, wherever it is killed', async () => {
    rig = Rig.create({ 'pipelines/p.yaml': PIPE, 'stages/wait.ts': TS_STAGE(false), 'stages/busy.ts': TS_STAGE(true) });
    const started = () => ['ts-wait', 'ts-busy', 'sh'].filter((s) => rig!.exists(`started-${s}`)).length;
    // Kill points: as soon as the run exists, after fixed delays (stages starting), and once every
    // stage and its own child processes run (ts-busy then blocks its event loop).
    const points: { name: string; ready: () => boolean | Promise<boolean> }[] = [
      { name: 'run directory created', ready: () => rig!.exists('runs') && lastRunId(rig!) !== undefined },
      { name: '700 ms in', ready: () => new Promise((r) => setTimeout(() => r(true), 700)) },
      { name: '1500 ms in', ready: () => new Promise((r) => setTimeout(() => r(true), 1500)) },
      { name: 'one stage started', ready: () => started() >= 1 },
      { name: 'all stages started', ready: () => started() === 3 },
    ];
    for (const point of points) {
      for (const s of ['ts-wait', 'ts-busy', 'sh']) rmSync(rig.path(`started-${s}`), { force: true });
      const before = new Set(rig.exists('runs') ? [lastRunId(rig)] : []);
      const runner = rig.spawn(['run', 'pipelines/p.yaml', '-j', '3']);
      const end = Date.now() + 60_000;
      while (!(await point.ready())) {
        if (Date.now() > end) throw new Error(`never reached '${point.name}'`);
        await new Promise((r) => setTimeout(r, 20));
      }
      if (point.name === 'all stages started') {
        // What the kill must take down: three stages, a guard, and the sleeps they started.
        expect(processesOfRun(lastRunId(rig)!).length).toBeGreaterThanOrEqual(7);
      }
      process.kill(runner.pid!, 'SIGKILL');
      await runner;
      const id = lastRunId(rig);
      if (!id || before.has(id)) continue; // killed before it made its run: nothing of it can run
      await until(`no process of run ${id} after a kill at '${point.name}'`, () => processesOfRun(id).length === 0, 5000);
    }
  }, 240_000);
});

describe('taking over a dead runner lock', () => {
  it('kills the stage group the dead owner recorded, and waits until it is gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'massflow-locks-'));
    try {
      // An orphan: a process group still running for a runner that no longer exists.
      const orphan = spawn('bash', ['-c', 'sleep 300 & sleep 300 & wait'], { detached: true, stdio: 'ignore' });
      const pgid = orphan.pid!;
      const dead = spawn('true');
      await new Promise((r) => dead.on('exit', r));
      const locks = new LockManager(join(dir, 'locks'));
      mkdirSync(join(dir, 'locks'));
      writeFileSync(locks.lockPath('out/a.txt'), JSON.stringify({
        pid: dead.pid, host: hostname(), procStart: 'gone', runId: 'R0', stage: 'a', since: new Date().toISOString(),
        stageGroup: { pgid, procStart: processStart(pgid) }, resource: 'out/a.txt',
      }));
      const groupAlive = () => { try { process.kill(-pgid, 0); return true; } catch { return false; } };
      expect(groupAlive()).toBe(true);
      const lock = await locks.acquire('out/a.txt', { runId: 'R1', stage: 'a' }, () => {});
      expect(groupAlive()).toBe(false);
      await lock.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
