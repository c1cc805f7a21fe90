// The remote cache with the Slurm executor on the one-node cluster: what one machine pushed is
// restored on the login node and never submitted; a stage the remote lacks runs as a job and
// `push: auto` sends its result when the run ends. And a job that runs massflow in a working copy of
// its own (as on a node that does not share the project's filesystem) pulls its inputs from the
// remote and pushes its outputs there.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseEnv, BIN, normalize, Rig } from '../e2e/rig.js';
import { Moto, MOTO_MISSING, requireMoto } from '../remote/moto.js';
import { FAST, jobsIn, requireSlurm, SLURM_UP_MS } from './cluster.js';

const haveMoto = requireMoto();
const SPEC = (greeting: string, prefix = 'slurm') => `name: lab
remote: { url: s3://lab/${prefix}, push: auto }
stages:
  make: { cmd: [sh, -c, "mkdir -p data; echo made > data/a.txt"], outs: [data/a.txt] }
  greet: { cmd: [sh, -c, "echo ${greeting} >> data/greeting.txt"], deps: [data/a.txt], outs: [data/greeting.txt] }
`;

describe.skipIf(!haveMoto)(`remote cache with Slurm${haveMoto ? '' : ` - skipped: ${MOTO_MISSING}`}`, () => {
  let moto: Moto;
  const rigs: Rig[] = [];
  beforeAll(async () => {
    await requireSlurm();
    moto = await Moto.start();
    await moto.bucket('lab');
  }, SLURM_UP_MS);
  afterAll(async () => { await moto?.stop(); for (const r of rigs) r.cleanup(); });

  it('restores on the login node what the remote has, submits only the rest, and pushes its result', async () => {
    const laptop = Rig.create({ 'massflow.yaml': SPEC('hello') });
    const cluster = Rig.create({ 'massflow.yaml': SPEC('hello') });
    const other = Rig.create({ 'massflow.yaml': SPEC('bonjour') });
    rigs.push(laptop, cluster, other);
    const env = { ...moto.env(), ...FAST };
    const first = await laptop.run(['run', '--tracking-uri', 'none'], env);
    expect(first.stdout).toContain('remote: pushed 2 entries');

    const restored = await cluster.run(['run', '--executor', 'slurm', '--tracking-uri', 'none'], env);
    expect(restored.code).toBe(0);
    expect(normalize(restored.stdout)).toContain('succeeded: 0 ran, 2 restored, 0 fresh, 0 failed, 0 skipped, 0 cancelled in Ns\n');
    expect(jobsIn(cluster.dir)).toEqual([]);
    expect(cluster.read('data/greeting.txt')).toBe('hello\n');

    // Same first stage, another second one: only that one becomes a job.
    const partly = await other.run(['run', '--executor', 'slurm', '--tracking-uri', 'none'], env);
    expect(partly.code, partly.stdout + partly.stderr).toBe(0);
    expect(normalize(partly.stdout)).toContain('succeeded: 1 ran, 1 restored, 0 fresh, 0 failed, 0 skipped, 0 cancelled in Ns\n');
    expect(jobsIn(other.dir).map((j) => j.name)).toEqual(['massflow:greet']);
    expect(partly.stdout).toContain('remote: pushed 1 entry (1 new object, ');
    expect(await moto.keys('lab', 'slurm/entries/')).toHaveLength(3);
  }, 180_000);

  it('a job running massflow in its own working copy pulls its inputs from the remote and pushes its outputs; the submitter then submits nothing', async () => {
    const laptop = Rig.create({ 'massflow.yaml': SPEC('hi', 'node-copy') });
    // The job's working copy: the project's files only, no cache, not the submitting directory.
    const node = Rig.create({ 'massflow.yaml': SPEC('hi', 'node-copy') });
    const submitter = Rig.create({ 'massflow.yaml': SPEC('hi', 'node-copy') });
    rigs.push(laptop, node, submitter);
    const env = { ...baseEnv(), ...moto.env(), ...FAST, CI: '1', NO_COLOR: '1', MASSFLOW_BACKEND: 'cpu' };
    expect((await laptop.run(['run', 'make', '--tracking-uri', 'none'], env)).stdout).toContain('remote: pushed 1 entry');

    const script = join(submitter.dir, 'job.sh');
    writeFileSync(script, `#!/bin/bash\ncd ${node.dir} && exec ${process.execPath} ${BIN} run greet --tracking-uri none\n`);
    const out = join(submitter.dir, 'job.out');
    const job = await execa('sbatch', ['--wait', '--job-name', 'massflow:node-copy', '-o', out, '--export', 'ALL', script], { env, extendEnv: false, reject: false, timeout: 120_000 });
    const log = normalize(submitter.read('job.out'));
    expect(job.exitCode, log + job.stderr).toBe(0);
    expect(log).toContain('  make   restored  Ns  from remote cache: data/a.txt\n');
    expect(log).toContain('succeeded: 1 ran, 1 restored, 0 fresh, 0 failed, 0 skipped, 0 cancelled in Ns\n');
    expect(log).toContain('remote: pushed 1 entry (1 new object, ');
    expect(node.read('data/greeting.txt')).toBe('hi\n');

    const run = await submitter.run(['run', '--executor', 'slurm', '--tracking-uri', 'none'], env);
    expect(normalize(run.stdout)).toContain('succeeded: 0 ran, 2 restored, 0 fresh, 0 failed, 0 skipped, 0 cancelled in Ns\n');
    expect(jobsIn(submitter.dir)).toEqual([]);
    expect(submitter.read('data/greeting.txt')).toBe('hi\n');
    expect(submitter.exists('data/a.txt')).toBe(true);
  }, 240_000);
});
