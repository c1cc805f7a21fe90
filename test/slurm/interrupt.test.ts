// Ctrl-C cancels the run's jobs in Slurm; a runner killed outright leaves them running, and the
// next runner re-attaches to them instead of submitting them again.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalize, Rig, writerStage } from '../e2e/rig.js';
import { FAST, jobsIn, liveJobsIn, requireSlurm, SLURM_UP_MS, until } from './cluster.js';

let rig: Rig;
beforeAll(() => requireSlurm(), SLURM_UP_MS);
afterEach(() => rig?.cleanup());

const TWO = (slowMs: number) => ({
  'pipelines/p.yaml': `
name: two
stages:
  slow: { run: stages/slow.ts, outs: [slow.txt] }
  next: { run: stages/next.ts, deps: [slow.txt], outs: [next.txt] }
`,
  'stages/slow.ts': writerStage({ sleepMs: slowMs }),
  'stages/next.ts': writerStage({ readDep: true, text: 'next' }),
});

const count = (r: Rig, id: string) => (r.exists(`count/${id}`) ? r.read(`count/${id}`).length : 0);

describe('interrupting a Slurm run', () => {
  it('Ctrl-C cancels the running and the queued job, commits nothing, and says so', async () => {
    rig = Rig.create(TWO(60_000));
    const p = rig.spawn(['run', 'pipelines/p.yaml', '--executor', 'slurm'], FAST);
    // Interrupt once the slow stage runs on the node and its dependent waits in the queue.
    await until('slow to run with next queued', () => count(rig, 'slow') === 1 && jobsIn(rig.dir).length === 2, 30_000);
    expect(liveJobsIn(rig.dir).map((j) => j.state).sort()).toEqual(['PENDING', 'RUNNING']);
    p.kill('SIGINT');
    const r = await p;
    expect(r.exitCode).toBe(130);
    const out = normalize(String(r.stdout));
    expect(out).toMatch(/cancelled slow +stopped; nothing committed/);
    expect(out).toMatch(/cancelled next +stopped; nothing committed/);
    // The runner waited for scancel: by the time it exits, nothing is queued or running any more
    // (a job may still be COMPLETING while Slurm kills its processes), and soon both are CANCELLED.
    expect(jobsIn(rig.dir).filter((j) => j.state === 'PENDING' || j.state === 'RUNNING')).toEqual([]);
    await until('both jobs cancelled', () => jobsIn(rig.dir).every((j) => j.state === 'CANCELLED'), 15_000);
    expect(rig.exists('slow.txt')).toBe(false);
    expect(readdirSync(rig.path('.massflow/slurm'))).toEqual([]);
    expect(count(rig, 'next')).toBe(0);
  }, 60_000);

  it('a runner killed mid-run is replaced by one that re-attaches: no job is submitted twice', async () => {
    rig = Rig.create(TWO(6000));
    const first = rig.spawn(['run', 'pipelines/p.yaml', '--executor', 'slurm'], FAST);
    await until('slow to run with next queued', () => count(rig, 'slow') === 1 && jobsIn(rig.dir).length === 2, 30_000);
    first.kill('SIGKILL');
    await first;
    // The jobs outlive their runner.
    expect(liveJobsIn(rig.dir).length).toBe(2);
    const records = readdirSync(rig.path('.massflow/slurm'));
    expect(records.length).toBe(2);

    const second = await rig.run(['run', 'pipelines/p.yaml', '--executor', 'slurm'], FAST);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(normalize(second.stdout)).toContain('succeeded: 2 ran');
    expect(jobsIn(rig.dir).map((j) => [j.name, j.state])).toEqual([['massflow:slow', 'COMPLETED'], ['massflow:next', 'COMPLETED']]);
    expect(count(rig, 'slow')).toBe(1);
    expect(count(rig, 'next')).toBe(1);
    expect(rig.read('next.txt')).toMatch(/^out\{\}\nnext/);
    // The new run's logs say whose job it adopted; nothing is left to adopt.
    const runs = readdirSync(rig.path('runs')).sort();
    expect(rig.read(`runs/${runs[1]}/logs/slow.log`)).toMatch(/re-attached to Slurm job \d+, submitted by run /);
    expect(readdirSync(rig.path('.massflow/slurm'))).toEqual([]);
    const third = await rig.run(['run', 'pipelines/p.yaml', '--executor', 'slurm'], FAST);
    expect(normalize(third.stdout)).toContain('0 ran, 0 restored, 2 fresh');
  }, 90_000);

  it('re-attaches to a job that finished while no runner watched, keeping what it wrote', async () => {
    rig = Rig.create(TWO(1500));
    const first = rig.spawn(['run', 'pipelines/p.yaml', '--executor', 'slurm'], FAST);
    await until('slow to run', () => count(rig, 'slow') === 1, 30_000);
    first.kill('SIGKILL');
    await first;
    // Both jobs end with no runner: the outputs exist, but nothing is in the cache yet.
    await until('both jobs to end', () => jobsIn(rig.dir).length === 2 && liveJobsIn(rig.dir).length === 0, 30_000);
    const runDir = readdirSync(rig.path('runs'))[0]!;
    expect(existsSync(rig.path(`runs/${runDir}/slurm/next.exit`))).toBe(true);

    const second = await rig.run(['run', 'pipelines/p.yaml', '--executor', 'slurm'], FAST);
    expect(second.code, second.stdout).toBe(0);
    expect(normalize(second.stdout)).toContain('succeeded: 2 ran');
    expect(jobsIn(rig.dir).length).toBe(2);
    expect(count(rig, 'slow')).toBe(1);
    expect(count(rig, 'next')).toBe(1);
  }, 90_000);

  it('knows a finished job Slurm has forgotten by its marker, and reruns a lost one', async () => {
    rig = Rig.create(TWO(1500));
    const first = rig.spawn(['run', 'pipelines/p.yaml', '--executor', 'slurm'], FAST);
    await until('slow to run', () => count(rig, 'slow') === 1, 30_000);
    first.kill('SIGKILL');
    await first;
    await until('both jobs to end', () => jobsIn(rig.dir).length === 2 && liveJobsIn(rig.dir).length === 0, 30_000);
    // Make Slurm forget both jobs: point the records at ids it never had. slow keeps its marker
    // (finished while nobody watched); next loses it (the job vanished without a trace).
    const dir = rig.path('.massflow/slurm');
    for (const f of readdirSync(dir)) {
      const rec = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      rec.jobId = rec.stage === 'slow' ? '999999' : '999998';
      if (rec.stage === 'next') rmSync(rec.files.marker);
      writeFileSync(join(dir, f), JSON.stringify(rec));
    }
    const second = await rig.run(['run', 'pipelines/p.yaml', '--executor', 'slurm'], FAST);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    const runs = readdirSync(rig.path('runs')).sort();
    expect(rig.read(`runs/${runs[1]}/logs/slow.log`)).toContain('re-attached to Slurm job 999999');
    expect(count(rig, 'slow')).toBe(1);
    expect(count(rig, 'next')).toBe(2);
    expect(jobsIn(rig.dir).map((j) => j.name)).toEqual(['massflow:slow', 'massflow:next', 'massflow:next']);
  }, 90_000);
});
