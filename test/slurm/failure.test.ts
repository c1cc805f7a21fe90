// A failing job: its dependents, already queued in Slurm behind it, end skipped and cancelled;
// the summary names the failed job's id and shows its log tail; submission errors are clear.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { normalize, Rig, writerStage } from '../e2e/rig.js';
import { FAST, jobFields, jobsIn, requireSlurm, SLURM_UP_MS, until } from './cluster.js';

let rig: Rig;
beforeAll(() => requireSlurm(), SLURM_UP_MS);
afterEach(() => rig?.cleanup());

const CHAIN = `
name: failing
stages:
  a: { run: stages/ok.ts, outs: [out/a.txt] }
  bad: { run: stages/bad.ts, deps: [out/a.txt], outs: [out/bad.txt] }
  c:
    cmd: [node, -e, "require('fs').writeFileSync('out/c.txt', 'c')"]
    deps: [out/bad.txt]
    outs: [out/c.txt]
  d: { run: stages/ok.ts, deps: [out/c.txt], outs: [out/d.txt] }
`;

describe('failing jobs on Slurm', () => {
  it('skips and cancels the dependents, and names the failed job and its log tail', async () => {
    rig = Rig.create({ 'pipelines/p.yaml': CHAIN, 'stages/ok.ts': writerStage({}), 'stages/bad.ts': writerStage({ sleepMs: 3000, fail: true }) });
    const r = await rig.run(['run', 'pipelines/p.yaml', '--executor', 'slurm'], FAST);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const jobs = jobsIn(rig.dir);
    const byName = Object.fromEntries(jobs.map((j) => [j.name.replace('massflow:', ''), j]));
    expect(byName['a']?.state).toBe('COMPLETED');
    expect(byName['bad']?.state).toBe('FAILED');
    // c and d were queued behind bad (afterok) before it failed, then cancelled, never run.
    expect(byName['c']?.state).toBe('CANCELLED');
    expect(byName['d']?.state).toBe('CANCELLED');
    expect(rig.exists('out/c.txt')).toBe(false);
    expect(rig.exists('count/d')).toBe(false);

    const out = normalize(r.stdout);
    const badId = byName['bad']!.id;
    expect(out).toMatch(new RegExp(`FAILED +bad +Ns +boom in bad \\(job ${badId}\\)`));
    expect(out).toMatch(/\| Error: boom in bad/);
    expect(out).toMatch(/\| +at .*bad\.ts/);
    expect(out).toMatch(/skipped +c +upstream bad failed/);
    expect(out).toMatch(/skipped +d +upstream bad failed/);
    expect(out).toContain('failed: 1 ran, 0 restored, 0 fresh, 1 failed, 2 skipped, 0 cancelled');
    const record = JSON.parse(rig.read(`runs/${readdirSync(rig.path('runs'))[0]}/run.json`));
    expect(record.stages.bad.outcome).toBe('failed');
    expect(record.stages.c.outcome).toBe('skipped');

    // Fixed, the rerun takes a from the cache and runs the rest.
    rig.write('stages/bad.ts', writerStage({}));
    const again = await rig.run(['run', 'pipelines/p.yaml', '--executor', 'slurm'], FAST);
    expect(again.code, again.stdout).toBe(0);
    expect(normalize(again.stdout)).toContain('succeeded: 3 ran, 0 restored, 1 fresh');
    expect(rig.read('out/c.txt')).toBe('c');
  }, 90_000);

  it('a command stage that exits non-zero fails with its exit code and output', async () => {
    rig = Rig.create({
      'pipelines/p.yaml': `
name: exit
stages:
  sh: { cmd: ["echo about to fail; echo to stderr >&2; exit 3"], shell: true, outs: [x.txt] }
`,
    });
    const r = await rig.run(['run', 'pipelines/p.yaml', '--executor', 'slurm'], FAST);
    expect(r.code).toBe(1);
    const [job] = jobsIn(rig.dir);
    expect(job?.state).toBe('FAILED');
    expect(normalize(r.stdout)).toMatch(new RegExp(`FAILED +sh +Ns +exited with code 3 \\(job ${job!.id}\\)\\n  \\| about to fail\\n  \\| to stderr`));
  }, 60_000);

  it('maps resources and slurm options onto the job; what Slurm refuses is a clear stage failure', async () => {
    rig = Rig.create({
      'pipelines/p.yaml': `
name: opts
executor: slurm
slurm: { partition: debug, extraArgs: ["--comment=from-pipeline"] }
stages:
  big:
    run: stages/ok.ts
    outs: [big.txt]
    resources: { cpu: 2, memory: 100MiB, time: "0:05:00" }
    slurm: { extraArgs: ["--nice=5"] }
  gpu:
    run: stages/ok.ts
    outs: [gpu.txt]
    resources: { gpu: 1 }
`,
      'stages/ok.ts': writerStage({}),
    });
    // executor: slurm in the spec, no flag.
    const r = await rig.run(['run', 'pipelines/p.yaml', '-k'], FAST);
    expect(r.code).toBe(1);
    const big = jobsIn(rig.dir).find((j) => j.name === 'massflow:big')!;
    const f = jobFields(big.id);
    expect(f['NumCPUs']).toBe('2');
    expect(f['MinMemoryNode']).toBe('100M');
    expect(f['TimeLimit']).toBe('00:05:00');
    expect(f['Partition']).toBe('debug');
    expect(f['Comment']).toBe('from-pipeline');
    expect(f['Nice']).toBe('5');
    expect(f['JobState']).toBe('COMPLETED');
    // This node has no GPUs: sbatch refuses the job, and the summary says so in sbatch's words.
    expect(normalize(r.stdout)).toMatch(/FAILED +gpu +Ns +sbatch failed \(exit 1\): sbatch: error: .*(gres|generic resource|node configuration)/i);
  }, 60_000);

  it('a job cancelled outside the run fails in Slurm\'s words, found through squeue', async () => {
    rig = Rig.create({ 'pipelines/p.yaml': 'name: x\nstages:\n  slow: { run: stages/slow.ts, outs: [slow.txt] }\n', 'stages/slow.ts': writerStage({ sleepMs: 60_000 }) });
    const p = rig.spawn(['run', 'pipelines/p.yaml', '--executor', 'slurm'], FAST);
    await until('slow to run', () => rig.exists('count/slow'), 30_000);
    const [job] = jobsIn(rig.dir);
    execFileSync('scancel', [job!.id]);
    const r = await p;
    expect(r.exitCode).toBe(1);
    expect(normalize(String(r.stdout))).toMatch(new RegExp(`FAILED +slow +Ns +Slurm job ${job!.id} ended CANCELLED.*: cancelled outside this run \\(job ${job!.id}\\)`));
  }, 60_000);
});
