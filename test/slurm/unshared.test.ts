// `slurm.shared_fs: false` on the one-node cluster with moto as the remote: every job clones the
// project from its "git server" (a bare repository) into a scratch directory of its own, runs its
// stage there with massflow, and sends its result and log through the remote. The project directory
// on the "login node" receives nothing from a job except what the runner restores from the remote.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalize, Rig } from '../e2e/rig.js';
import { Moto, MOTO_MISSING, requireMoto, SECRET } from '../remote/moto.js';
import { FAST, jobsIn, requireSlurm, SLURM_UP_MS } from './cluster.js';

const haveMoto = requireMoto();
/** Slurm remembers jobs for an hour: names unique to this test run keep earlier runs' jobs apart. */
const RUN = Math.random().toString(36).slice(2, 7);

/** A three-stage chain; `tag` keeps its stage (and so job) names apart from other tests' on the shared cluster. */
const spec = (tag: string, opts: { remote?: boolean; slurm?: string; failing?: boolean } = {}) => `name: nfs
params: { n: 1 }
${opts.remote === false ? '' : `remote: s3://lab/${tag}\n`}slurm: ${opts.slurm ?? '{ shared_fs: false }'}
stages:
  sow${tag}${RUN}:
    cmd: "${opts.failing ? 'echo the soil is dry >&2; exit 3' : 'mkdir -p out && pwd && echo key=$AWS_SECRET_ACCESS_KEY && echo seed > out/seed.txt'}"
    outs: [out/seed.txt]
  grow${tag}${RUN}:
    cmd: "cat out/seed.txt > out/plant.txt && echo n=\${n} >> out/plant.txt"
    params: [n]
    deps: [out/seed.txt]
    outs: [out/plant.txt]
  reap${tag}${RUN}:
    cmd: "cat out/plant.txt > out/crop.txt"
    deps: [out/plant.txt]
    outs: [out/crop.txt]
`;

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=lab', '-c', 'user.email=lab@example.org', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** A project committed to a "git server" (a bare repository) that is its `origin`. */
function labProject(text: string): { rig: Rig; server: string } {
  const rig = Rig.create({ 'massflow.yaml': text, '.gitignore': 'node_modules\n.massflow/\nruns/\nout/\n' });
  git(rig.dir, 'init', '-q');
  git(rig.dir, 'add', '-A');
  git(rig.dir, 'commit', '-qm', 'pipeline');
  const server = mkdtempSync(join(tmpdir(), 'massflow-git-'));
  git(server, 'clone', '-q', '--bare', rig.dir, '.');
  git(rig.dir, 'remote', 'add', 'origin', server);
  return { rig, server };
}

/** Every file under `dir` but the repository, the linked node_modules and the cache, relative. */
function filesIn(dir: string, skip = ['.git', 'node_modules', '.massflow']): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (skip.includes(relative(dir, p))) continue;
      if (statSync(p).isDirectory()) walk(p); else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** The jobs of stages sow, grow and reap of one test (by its tag), oldest first. */
const jobsOf = (tag: string) => jobsIn('/tmp').filter((j) => ['sow', 'grow', 'reap'].some((s) => j.name === `massflow:${s}${tag}${RUN}`));

// Concurrent: most of each test is waiting on Slurm's scheduler and the poll interval, which overlap.
describe.skipIf(!haveMoto)(`Slurm jobs without a shared filesystem${haveMoto ? '' : ` - skipped: ${MOTO_MISSING}`}`, { concurrent: true }, () => {
  let moto: Moto;
  const cleanups: (() => void)[] = [];
  beforeAll(async () => {
    await requireSlurm();
    moto = await Moto.start();
    await moto.bucket('lab');
  }, SLURM_UP_MS);
  afterAll(async () => { await moto?.stop(); for (const c of cleanups) c(); });

  const setUp = (text: string) => {
    const p = labProject(text);
    const scratch = mkdtempSync(join(tmpdir(), 'massflow-node-'));
    cleanups.push(() => p.rig.cleanup(), () => rmSync(p.server, { recursive: true, force: true }), () => rmSync(scratch, { recursive: true, force: true }));
    // TMPDIR reaches the jobs through Slurm's --export=ALL, as the AWS credentials do.
    return { ...p, scratch, env: { ...moto.env(), ...FAST, TMPDIR: scratch } };
  };

  it('runs each stage in a clone on the node, restores the results from the remote, and a second run runs nothing', async () => {
    const { rig, scratch, env } = setUp(spec('a'));
    const r = await rig.run(['run', '--executor', 'slurm', '--tracking-uri', 'none', '-p', 'n=3'], env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(normalize(r.stdout)).toContain('succeeded: 3 ran, 0 restored, 0 fresh, 0 failed, 0 skipped, 0 cancelled in Ns\n');
    expect(rig.read('out/crop.txt')).toBe('seed\nn=3\n');
    expect(jobsOf('a').map((j) => j.state)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);

    // The project received the restored outputs and the runner's own files; no job wrote here.
    const runId = readdirSync(rig.path('runs'))[0]!;
    const perStage = (dir: string, ext: string) => ['growa', 'reapa', 'sowa'].map((s) => `runs/${runId}/${dir}/${s}${RUN}.${ext}`);
    expect(filesIn(rig.dir)).toEqual([
      '.gitignore', 'massflow.yaml', 'out/crop.txt', 'out/plant.txt', 'out/seed.txt',
      ...perStage('events', 'jsonl'), ...perStage('logs', 'log'), `runs/${runId}/run.json`, ...perStage('slurm', 'sh'),
      `runs/${runId}/timeline.svg`, `runs/${runId}/tracking/ops.jsonl`,
    ]);
    // The runner opens each cmd stage's events file; a job, which cannot see it, leaves it empty.
    for (const f of perStage('events', 'jsonl')) expect(rig.read(f)).toBe('');
    // The stage ran in the job's clone under the node's TMPDIR, which the job removed again.
    const log = rig.read(`runs/${runId}/logs/sowa${RUN}.log`);
    const pwd = /^(\/.*\/massflow-job\.\w+\/work)$/m.exec(log)?.[1];
    expect(pwd, log).toBeDefined();
    expect(pwd!.startsWith(`${scratch}/`)).toBe(true);
    expect(readdirSync(scratch)).toEqual([]);
    expect(log).toContain("massflow: the stage's log:");
    // The job had the credentials (it pushed), and no log, script or record holds the secret.
    expect(log).toContain('key=***\n');
    for (const f of filesIn(rig.dir)) expect(readFileSync(rig.path(f), 'utf8'), f).not.toContain(SECRET);
    expect(rig.read(`runs/${runId}/slurm/growa${RUN}.sh`)).not.toContain('AWS_');
    expect(await moto.keys('lab', `a/logs/${runId}/`)).toEqual([`a/logs/${runId}/growa${RUN}.log`, `a/logs/${runId}/reapa${RUN}.log`, `a/logs/${runId}/sowa${RUN}.log`]);
    const sent = await (await moto.client.send(new GetObjectCommand({ Bucket: 'lab', Key: `a/logs/${runId}/sowa${RUN}.log` }))).Body!.transformToString();
    expect(sent).toContain('key=***\n');
    expect(sent).not.toContain(SECRET);
    const record = JSON.parse(rig.read(`runs/${runId}/run.json`));
    expect(Object.values(record.stages).map((s) => (s as { outcome: string }).outcome)).toEqual(['ran', 'ran', 'ran']);

    const again = await rig.run(['run', '--executor', 'slurm', '--tracking-uri', 'none', '-p', 'n=3'], env);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(normalize(again.stdout)).toContain('succeeded: 0 ran, 0 restored, 3 fresh, 0 failed, 0 skipped, 0 cancelled in Ns\n');
    expect(jobsOf('a')).toHaveLength(3);
  }, 180_000);

  it('a failing stage fails the run with its job and log tail, and the jobs queued behind it are cancelled', async () => {
    const { rig, env } = setUp(spec('b', { failing: true }));
    // An uncommitted change the jobs will not see is worth a warning, not a refusal.
    rig.write('.gitignore', `${rig.read('.gitignore')}# local\n`);
    const r = await rig.run(['run', '--executor', 'slurm', '--tracking-uri', 'none'], env);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/massflow\.yaml:4:21 warning: uncommitted changes to \.gitignore: the jobs check out the last commit/);
    const [sow, grow, reap] = jobsOf('b');
    expect([sow?.state, grow?.state, reap?.state]).toEqual(['FAILED', 'CANCELLED', 'CANCELLED']);
    const out = normalize(r.stdout);
    const id = sow!.id;
    expect(out).toMatch(new RegExp(`FAILED +sowb${RUN} +Ns +Slurm job ${id} ended FAILED \\(exit 1\\): the stage failed on the node \\(its log above\\) \\(job ${id}\\)`));
    expect(out).toMatch(/\| the soil is dry/);
    expect(out).toMatch(new RegExp(`skipped +growb${RUN} +upstream sowb${RUN} failed`));
    expect(out).toMatch(new RegExp(`skipped +reapb${RUN} +upstream sowb${RUN} failed`));
    expect(out).toContain('failed: 0 ran, 0 restored, 0 fresh, 1 failed, 2 skipped, 0 cancelled');
    const runId = readdirSync(rig.path('runs'))[0]!;
    expect(JSON.parse(rig.read(`runs/${runId}/run.json`)).stages[`sowb${RUN}`].outcome).toBe('failed');
    expect(rig.read(`runs/${runId}/logs/sowb${RUN}.log`)).toContain('the soil is dry\n');
    expect(rig.exists('out/seed.txt')).toBe(false);
  }, 180_000);

  it('cancels and reports a job pending past the bound, and what is queued behind it', async () => {
    const { rig, env } = setUp(spec('d', { slurm: '{ shared_fs: false, extraArgs: ["--begin=now+1hour"] }' }));
    const r = await rig.run(['run', '--executor', 'slurm', '--tracking-uri', 'none'], { ...env, MASSFLOW_SLURM_PENDING_LIMIT_MS: '2000' });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const [sow] = jobsOf('d');
    expect(jobsOf('d').map((j) => j.state)).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED']);
    expect(normalize(r.stdout)).toMatch(new RegExp(`FAILED +sowd${RUN} +Ns +Slurm job ${sow!.id} stayed pending \\(BeginTime\\) for \\d+ s, past MASSFLOW_SLURM_PENDING_LIMIT_MS; cancelled`));
  }, 60_000);

  it('refuses a configuration it cannot honour, located, before submitting anything', async () => {
    const { rig, env } = setUp(spec('c', { remote: false, slurm: '{ shared_fs: false, checkout: { commit: nothex } }' }));
    const r = await rig.run(['run', '--executor', 'slurm', '--tracking-uri', 'none'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("massflow.yaml:3:38 error: 'slurm.checkout': expected a bash snippet, or { git: URL, commit: HEX } (a commit is 7 to 64 hex digits)");

    rig.write('massflow.yaml', spec('c', { remote: false }));
    const noRemote = await rig.run(['run', '--executor', 'slurm', '--tracking-uri', 'none'], env);
    expect(noRemote.code).toBe(2);
    expect(noRemote.stderr).toContain('massflow.yaml:3:21');
    expect(noRemote.stderr).toContain('slurm.shared_fs: false needs a remote cache');

    rmSync(rig.path('.git'), { recursive: true });
    rig.write('massflow.yaml', spec('c'));
    const noGit = await rig.run(['run', '--executor', 'slurm', '--tracking-uri', 'none'], env);
    expect(noGit.code).toBe(2);
    expect(noGit.stderr).toContain('the project is not in a git repository, so a job cannot clone it');
    expect(jobsOf('c')).toEqual([]);
    expect(rig.exists('runs')).toBe(false);
  }, 60_000);
});
