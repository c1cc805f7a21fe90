// The executor's pure pieces, no cluster needed: the sbatch command line, the batch script (run
// by bash for real), what squeue/scontrol/sacct print, and following a growing file.
import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StageId } from '../../src/core/brand.js';
import type { StageJob } from '../../src/exec/executor.js';
import type { JobId } from '../../src/exec/slurm/commands.js';
import { FileTail } from '../../src/exec/channel/file-tail.js';
import { jobFiles, wrapperScript } from '../../src/exec/slurm/job-script.js';
import { parseSacct, parseScontrolJob, parseSqueue } from '../../src/exec/slurm/job-state.js';
import { mergeOptions, sbatchArgs } from '../../src/exec/slurm/sbatch-args.js';

let dir: string;
afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

function job(over: Partial<StageJob> = {}): StageJob {
  return {
    id: 'fit@fold=1' as StageId, runId: 'R1', projectDir: '/p', impl: { kind: 'ts', module: 'stages/fit.ts' },
    params: { a: 1 }, vars: { fold: 1 }, deps: [], outs: ['/p/o.txt'], metrics: [], env: {},
    resources: { cpu: 1, memoryBytes: 0, gpu: 0, time: undefined }, slurm: {}, backend: 'cpu', logFile: '/p/runs/R1/logs/fit@fold=1.log', stopGraceMs: 10_000,
    ...over,
  };
}

describe('sbatch command line', () => {
  it('maps resources, options and dependencies', () => {
    const j = job({
      resources: { cpu: 2.5, memoryBytes: 1.5 * 1024 ** 3, gpu: 2, time: '1:30:00' },
      slurm: { qos: 'high', extraArgs: ['--nice=5'] },
    });
    const args = sbatchArgs(j, { partition: 'gpu', account: 'lab', qos: 'normal', extraArgs: ['--constraint=a100'] }, jobFiles(j), ['11' as JobId, '12' as JobId]);
    expect(args).toEqual([
      '--parsable', '--job-name=massflow:fit@fold=1', '--chdir=/p', '--output=/p/runs/R1/slurm/fit@fold=1.out', '--open-mode=append',
      '--cpus-per-task=3', '--mem=1536M', '--gres=gpu:2', '--time=1:30:00',
      '--partition=gpu', '--account=lab', '--qos=high',
      '--dependency=afterok:11:12', '--kill-on-invalid-dep=yes',
      '--constraint=a100', '--nice=5',
      '/p/runs/R1/slurm/fit@fold=1.sh',
    ]);
  });

  it('asks for nothing it was not given', () => {
    const j = job();
    expect(sbatchArgs(j, {}, jobFiles(j), [])).toEqual([
      '--parsable', '--job-name=massflow:fit@fold=1', '--chdir=/p', '--output=/p/runs/R1/slurm/fit@fold=1.out', '--open-mode=append',
      '--cpus-per-task=1', '/p/runs/R1/slurm/fit@fold=1.sh',
    ]);
  });

  it('stage options override the pipeline\'s, field by field', () => {
    expect(mergeOptions({ partition: 'a', account: 'x' }, { partition: 'b' })).toEqual({ partition: 'b', account: 'x', extraArgs: [] });
  });
});

describe('batch script', () => {
  it('runs a command stage with its env, quoting intact, and writes the exit marker last', () => {
    dir = mkdtempSync(join(tmpdir(), 'massflow-wrapper-'));
    const weird = `it's "quoted" $HOME \`x\` \\ done`;
    const j = job({
      projectDir: dir, logFile: join(dir, 'runs/R1/logs/s.log'),
      impl: { kind: 'cmd', argv: ['sh', '-c', 'printf "%s|%s|%s" "$1" "$EXTRA" "$MASSFLOW_STAGE" > out.txt; exit 4', 'sh', weird], shell: false },
      env: { EXTRA: 'a b;c' },
    });
    const f = jobFiles(j);
    execFileSync('mkdir', ['-p', join(dir, 'runs/R1/slurm')]);
    writeFileSync(f.script, wrapperScript(j, f));
    let code = 0;
    try { execFileSync('bash', [f.script], { cwd: tmpdir() }); } catch (e) { code = (e as { status: number }).status; }
    expect(code).toBe(4);
    expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe(`${weird}|a b;c|fit@fold=1`);
    expect(readFileSync(f.marker, 'utf8')).toBe('4\n');
  });

  it('a project directory the node cannot enter ends with its own code and says why', () => {
    dir = mkdtempSync(join(tmpdir(), 'massflow-wrapper-'));
    const j = job({ projectDir: join(dir, 'not-shared'), logFile: join(dir, 'runs/R1/logs/s.log'), impl: { kind: 'cmd', argv: ['true'], shell: false } });
    const f = jobFiles(j);
    execFileSync('mkdir', ['-p', join(dir, 'runs/R1/slurm')]);
    writeFileSync(f.script, wrapperScript(j, f));
    let code = 0, stderr = '';
    try { execFileSync('bash', [f.script], { stdio: 'pipe' }); } catch (e) { code = (e as { status: number }).status; stderr = String((e as { stderr: Buffer }).stderr); }
    expect(code).toBe(97);
    expect(stderr).toMatch(/cannot enter .*not-shared on .*: the project must be on a filesystem the compute nodes share/);
    expect(readFileSync(f.marker, 'utf8')).toBe('97\n');
  });
});

describe('what Slurm prints', () => {
  it('squeue rows, live and ended', () => {
    const m = parseSqueue('7|PENDING|Dependency\n8|COMPLETED|None\n9|CANCELLED|DependencyNeverSatisfied\n');
    expect(m.get('7')).toEqual({ kind: 'live', state: 'PENDING', reason: 'Dependency' });
    expect(m.get('8')).toEqual({ kind: 'ended', state: 'COMPLETED', reason: 'None' });
    expect(m.get('9')?.kind).toBe('ended');
  });

  it('sacct rows, including "CANCELLED by uid"', () => {
    const m = parseSacct('21|CANCELLED by 0|0:15\n22|RUNNING|0:0\n');
    expect(m.get('21')).toEqual({ kind: 'ended', state: 'CANCELLED', reason: 'ExitCode=0:15' });
    expect(m.get('22')?.kind).toBe('live');
  });

  it('scontrol show job -o', () => {
    const line = 'JobId=13 JobName=wrap UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 ExitCode=3:0 RunTime=00:00:01';
    expect(parseScontrolJob(line)).toEqual({ state: 'FAILED', reason: 'NonZeroExitCode', exitCode: 3, exitSignal: 0 });
  });
});

describe('following a file', () => {
  it('returns whole lines as they complete, and the unterminated rest at the end', async () => {
    dir = mkdtempSync(join(tmpdir(), 'massflow-tail-'));
    const p = join(dir, 'f');
    const t = new FileTail(p);
    expect(await t.lines()).toEqual([]); // not there yet
    appendFileSync(p, 'one\ntw');
    expect(await t.lines()).toEqual(['one']);
    appendFileSync(p, 'o\nthr€');
    expect(await t.lines()).toEqual(['two']);
    expect(await t.lines(true)).toEqual(['thr€']);
  });
});
