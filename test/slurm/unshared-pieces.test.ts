// The pure pieces of `slurm.shared_fs: false`, no cluster needed: the settings and their located
// errors (with a fake git), the job's batch script (run by bash for real, with a stand-in for
// massflow), the masking of AWS secrets in a job's log, and the push mode a job forces.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StageId } from '../../src/core/brand.js';
import type { StageJob } from '../../src/exec/executor.js';
import { unsharedSetup, type GitProbe, type UnsharedSetup } from '../../src/exec/slurm/unshared-config.js';
import { UNSHARED_EXIT, unsharedScript } from '../../src/exec/slurm/unshared-script.js';
import { compilePipeline } from '../../src/pipeline/compile.js';
import type { Diagnostic } from '../../src/pipeline/diagnostics.js';
import type { RemoteConfig } from '../../src/remote/config.js';
import { chooseRemote } from '../../src/remote/config.js';
import { maskAwsSecrets } from '../../src/remote/job-log.js';

let dir: string;
afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

const REMOTE: RemoteConfig = { url: 's3://lab/cache', bucket: 'lab', prefix: 'cache', endpoint: 'http://127.0.0.1:9000', region: undefined, push: 'manual', jobs: 32 };

function pipeline(slurm: string) {
  const r = compilePipeline({ file: 'pipelines/p.yaml', text: `slurm: ${slurm}\nstages:\n  a: { cmd: [echo, hi], outs: [a.txt] }\n` });
  expect(r.diagnostics).toEqual([]);
  return r.pipeline!;
}

const git = (over: Partial<GitProbe> = {}): GitProbe => ({ toplevelPrefix: () => 'sub/dir', originUrl: () => 'https://git.lab/p.git', head: () => 'abc1234', modified: () => [], ...over });
const where = (d: Diagnostic) => `${d.location?.file}:${d.location?.range.start.line}:${d.location?.range.start.col}`;

describe('slurm.shared_fs: false settings', () => {
  it('clones origin at HEAD by default and finds the project inside the repository', () => {
    const r = unsharedSetup(pipeline('{ shared_fs: false }'), REMOTE, 'run', git());
    expect(r).toEqual({ ok: true, warnings: [], setup: expect.objectContaining({
      checkout: "git clone --quiet 'https://git.lab/p.git' . && git -c advice.detachedHead=false checkout --quiet 'abc1234'",
      projectPath: 'sub/dir', spec: 'pipelines/p.yaml', remote: { url: 's3://lab/cache', endpoint: 'http://127.0.0.1:9000', region: undefined },
    }) });
  });

  it('warns of uncommitted changes the jobs would not see, unless a commit or snippet is given', () => {
    const dirty = git({ modified: () => ['stages/a.py', 'b', 'c', 'd'] });
    const r = unsharedSetup(pipeline('{ shared_fs: false }'), REMOTE, 'run', dirty);
    expect(r.ok && r.warnings.map((w) => [w.severity, where(w), w.message])).toEqual([['warning', 'pipelines/p.yaml:1:21',
      'uncommitted changes to stages/a.py, b, c and 1 more: the jobs check out the last commit, so a stage whose fingerprint covers them computes another one in its job, and fails here with no result; commit them first']]);
    const pinned = unsharedSetup(pipeline('{ shared_fs: false, checkout: { commit: abcdef0 } }'), REMOTE, 'run', dirty);
    expect(pinned.ok && pinned.warnings).toEqual([]);
  });

  it('takes a snippet, a URL, a commit and a massflow command as given', () => {
    const snippet = unsharedSetup(pipeline('{ shared_fs: false, checkout: "cp -r /nfs/p/. .", massflow: massflow }'), REMOTE, 'run', git({ toplevelPrefix: () => undefined }));
    expect(snippet.ok && [snippet.setup.checkout, snippet.setup.projectPath, snippet.setup.massflow]).toEqual(['cp -r /nfs/p/. .', '', 'massflow']);
    const pinned = unsharedSetup(pipeline('{ shared_fs: false, checkout: { git: /srv/p.git, commit: 0123abcd } }'), REMOTE, 'run', git({ originUrl: () => undefined }));
    expect(pinned.ok && pinned.setup.checkout).toBe("git clone --quiet '/srv/p.git' . && git -c advice.detachedHead=false checkout --quiet '0123abcd'");
  });

  it('collects every problem, located at the setting that causes it', () => {
    const r = unsharedSetup(pipeline('{ shared_fs: false }'), undefined, 'other', git({ toplevelPrefix: () => undefined }));
    expect(r.ok).toBe(false);
    const ds = r.ok ? [] : r.diagnostics;
    expect(ds.map((d) => [d.code, where(d), d.message.split(':')[0]])).toEqual([
      ['slurm', 'pipelines/p.yaml:1:21', 'slurm.shared_fs'],
      ['slurm', 'pipelines/p.yaml:1:21', 'slurm.shared_fs'],
      ['slurm', 'pipelines/p.yaml:1:21', 'the project is not in a git repository, so a job cannot clone it'],
    ]);
    expect(ds[0]!.message).toContain('works with `massflow run` only');
    expect(ds[1]!.message).toContain('needs a remote cache');
    const uncached = compilePipeline({ file: 'p.yaml', text: 'slurm: { shared_fs: false }\nstages:\n  a: { cmd: [echo], outs: [a.txt], cache: false }\n' }).pipeline!;
    const u = unsharedSetup(uncached, REMOTE, 'run', git());
    expect(u.ok ? [] : u.diagnostics.map((d) => [where(d), d.message, d.related.map((r) => where({ location: r.location } as Diagnostic))])).toEqual([
      ['p.yaml:3:43', "stage 'a' has cache: false, so its job's result could not come back through the remote (slurm.shared_fs: false)", ['p.yaml:1:21']],
    ]);
    const noOrigin = unsharedSetup(pipeline('{ shared_fs: false, checkout: { commit: abcdef0 } }'), REMOTE, 'run', git({ originUrl: () => undefined }));
    expect(noOrigin.ok ? [] : noOrigin.diagnostics.map((d) => [where(d), d.message])).toEqual([
      ['pipelines/p.yaml:1:38', "the project's repository has no `origin` remote for jobs to clone: set slurm.checkout.git to a URL the compute nodes can reach"],
    ]);
  });
});

function stageJob(): StageJob {
  return {
    id: 'fit@fold=1' as StageId, runId: 'R1', projectDir: '/login/p', impl: { kind: 'cmd', argv: ['true'], shell: false },
    params: {}, vars: {}, deps: [], outs: ['/login/p/o.txt'], metrics: [], env: { SECRETISH: 'x' },
    resources: { cpu: 1, memoryBytes: 0, gpu: 0, time: undefined }, slurm: {}, backend: 'cpu@tfjs 4.22.0 cpu', logFile: '/login/p/runs/R1/logs/fit@fold=1.log', stopGraceMs: 10_000,
  };
}

/** Runs the job script with bash, `massflow` being a stand-in that records its calls. */
function runScript(setup: Partial<UnsharedSetup>, runExit: number) {
  dir = mkdtempSync(join(tmpdir(), 'massflow-unshared-'));
  const fake = join(dir, 'fake-massflow');
  writeFileSync(fake, `#!/bin/bash\nprintf '%s\\n' "$PWD" "$*" "push=$MASSFLOW_REMOTE_PUSH remote=$MASSFLOW_REMOTE" >>${dir}/calls\nif [ "$1" = job-log ]; then cp "\${@: -1}" ${dir}/sent.log; exit 0; fi\nmkdir -p runs/X/logs && echo stage says hi > 'runs/X/logs/fit@fold=1.log'\necho massflow output\nexit ${runExit}\n`);
  chmodSync(fake, 0o755);
  const full: UnsharedSetup = { checkout: 'mkdir -p sub && touch sub/massflow.yaml', projectPath: 'sub', spec: 'massflow.yaml', massflow: fake, remote: { url: 's3://lab/c', endpoint: 'http://127.0.0.1:9', region: 'eu-1' }, ...setup };
  const script = join(dir, 'job.sh');
  writeFileSync(script, unsharedScript(stageJob(), full, { overrides: ['n=3'], profiles: ['full'] }));
  mkdirSync(join(dir, 'scratch'));
  const r = spawnSync('bash', [script], { env: { PATH: process.env['PATH'], TMPDIR: join(dir, 'scratch'), SLURM_JOB_ID: '42' }, encoding: 'utf8' });
  const calls = readFileSync(join(dir, 'calls'), 'utf8').split('\n');
  return { code: r.status, calls, sent: readFileSync(join(dir, 'sent.log'), 'utf8'), scratch: readdirSync(join(dir, 'scratch')), text: readFileSync(script, 'utf8') };
}

describe('the job script of a node without the project directory', () => {
  it('runs the stage in a fresh working copy with the run\'s params, sends its log, and leaves nothing behind', () => {
    const r = runScript({}, 0);
    expect(r.code).toBe(0);
    expect(r.calls[0]).toMatch(new RegExp(`^${dir}/scratch/massflow-job\\.\\w+/work/sub$`));
    expect(r.calls[1]).toBe("run massflow.yaml fit@fold=1 --executor local --tracking-uri none --backend cpu --profile full -p n=3");
    expect(r.calls[2]).toBe('push=auto remote=s3://lab/c');
    expect(r.calls[4]).toMatch(/^job-log logs\/R1\/fit@fold=1\.log --endpoint http:\/\/127\.0\.0\.1:9 --region eu-1 .*\/job\.log$/);
    expect(r.sent).toMatch(/^massflow: job 42 on .*, working copy in .*\/work\nmassflow output\nmassflow: the stage's log:\nstage says hi\n$/);
    expect(r.scratch).toEqual([]);
    // The stage's own environment is the job's massflow's business; the script sets none of it.
    expect(r.text).not.toContain('SECRETISH');
  });

  it('passes on the stage\'s failure, and says when the working copy cannot be made', () => {
    expect(runScript({}, 1).code).toBe(1);
    const broken = runScript({ checkout: 'false' }, 0);
    expect(broken.code).toBe(UNSHARED_EXIT.checkout);
    expect(broken.sent).toContain('massflow: making the working copy failed (slurm.checkout)\n');
    expect(broken.calls.filter((c) => c.startsWith('run '))).toEqual([]);
  });
});

describe('a job\'s log and push mode', () => {
  it('masks the AWS secrets of the environment', () => {
    expect(maskAwsSecrets('k=abcd1234 t=tok-99 id=AKIA', { AWS_SECRET_ACCESS_KEY: 'abcd1234', AWS_SESSION_TOKEN: 'tok-99', AWS_ACCESS_KEY_ID: 'AKIA' })).toBe('k=*** t=*** id=AKIA');
  });

  it('MASSFLOW_REMOTE_PUSH overrides the spec\'s push mode, and only with auto or manual', () => {
    const with_ = (v: string) => chooseRemote({ url: 's3://lab/c', push: 'manual' }, { MASSFLOW_REMOTE_PUSH: v });
    expect(with_('auto')).toMatchObject({ ok: true, config: { push: 'auto' } });
    expect(with_('sometimes')).toEqual({ ok: false, message: "MASSFLOW_REMOTE_PUSH: 'sometimes' is neither auto nor manual" });
  });
});
