// What the Slurm tests share: a real cluster (started here when it is down and this process may
// start it, stopped again by ./global-setup.ts after the run; otherwise a failure, never a skip,
// that gives the command to run), the jobs a test project submitted as Slurm itself lists them, and
// projects holding the repository's smoke pipeline.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { inject } from 'vitest';
import { REPO, Rig } from '../e2e/rig.js';

export const UP = join(REPO, 'scripts/slurm-local.sh');
const UP_TIMEOUT_MS = 300_000;
/** Hook timeout for a beforeAll that calls requireSlurm: installing and starting takes a while. */
export const SLURM_UP_MS = UP_TIMEOUT_MS + 30_000;

/** Why the cluster is not usable now, or undefined when a controller answers and the node takes jobs. */
function slurmProblem(): string | undefined {
  const ping = spawnSync('scontrol', ['ping'], { encoding: 'utf8' });
  if (ping.error) return `Slurm is not installed here (scontrol: ${ping.error.message})`;
  if (ping.status !== 0 || !/UP/.test(ping.stdout)) return `the Slurm controller does not answer (${(ping.stdout + ping.stderr).trim()})`;
  const node = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8' }).stdout.trim();
  if (!/idle|mixed|allocated|completing/.test(node)) return `the Slurm node is '${node || 'missing'}', not usable`;
  return undefined;
}

/** Why this process cannot start the cluster itself, or undefined when it can. */
function cannotStart(): string | undefined {
  if (process.getuid?.() !== 0) return 'the tests are not running as root, which the daemons need';
  const installed = ['slurmctld', 'slurmd', 'sbatch', 'munged'].every((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
  if (!installed && spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0) return 'Slurm is not installed and there is no apt-get to install it';
  return undefined;
}

/**
 * Makes sure a usable cluster answers: when it does not and this process is root with Slurm
 * installed or installable, starts the one-node cluster (`scripts/slurm-local.sh up`, under a lock
 * so test files starting at once do it once) and leaves a mark so the global teardown stops it.
 * Otherwise throws with the exact command to run.
 */
export async function requireSlurm(): Promise<void> {
  const problem = slurmProblem();
  if (!problem) return;
  const how = `start the one-node test cluster with \`${process.getuid?.() === 0 ? '' : 'sudo '}${UP} up\`, then rerun the tests`;
  const why = cannotStart();
  if (why) throw new Error(`${problem}, and ${why}: ${how}`);
  const up = await execa('flock', [join(tmpdir(), 'massflow-test-slurm.lock'), UP, 'up'], { reject: false, all: true, timeout: UP_TIMEOUT_MS });
  if (up.exitCode !== 0) throw new Error(`${problem}; starting it with \`${UP} up\` failed (exit ${up.exitCode}):\n${String(up.all).trim().split('\n').slice(-15).join('\n')}\nFix that, then ${how}`);
  writeFileSync(inject('slurmStartedMark'), `${UP}\n`);
  const after = slurmProblem();
  if (after) throw new Error(`\`${UP} up\` succeeded but ${after}: ${how}`);
}

export interface SlurmJob { id: string; state: string; reason: string; name: string; workDir: string }

/** Every job Slurm still knows (any state) that runs in `dir` (or below it, with `under`), oldest first. */
export function jobsIn(dir: string, under = false): SlurmJob[] {
  const out = execFileSync('squeue', ['-h', '-t', 'all', '-o', '%i|%T|%r|%j|%Z'], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).map((l) => {
    const [id, state, reason, name, workDir] = l.split('|') as [string, string, string, string, string];
    return { id, state, reason, name, workDir };
  }).filter((j) => j.workDir === dir || (under && j.workDir.startsWith(`${dir}/`))).sort((a, b) => Number(a.id) - Number(b.id));
}

export const LIVE = ['PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING'];
export const liveJobsIn = (dir: string) => jobsIn(dir).filter((j) => LIVE.includes(j.state));

/** One job's fields as `scontrol show job -o` prints them. */
export function jobFields(id: string): Record<string, string> {
  const out = execFileSync('scontrol', ['show', 'job', '-o', id], { encoding: 'utf8' });
  return Object.fromEntries(out.trim().split(/\s+/).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

export async function until(what: string, cond: () => boolean, timeoutMs = 30_000, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Env for runs in tests: ask Slurm every second instead of every five (the files are read faster still). */
export const FAST = { MASSFLOW_SLURM_QUEUE_POLL_MS: '1000' };

/** A temp project with the repository's smoke pipeline, its stages and the stage contract sources. */
export function smokeRig(): Rig {
  const rig = Rig.create();
  mkdirSync(rig.path('scripts'), { recursive: true });
  cpSync(join(REPO, 'pipelines/smoke.yaml'), rig.path('pipelines/smoke.yaml'));
  cpSync(join(REPO, 'stages/smoke'), rig.path('stages/smoke'), { recursive: true });
  cpSync(join(REPO, 'scripts/smoke-stats.mjs'), rig.path('scripts/smoke-stats.mjs'));
  // The smoke stages import ../../src/stage/define.js.
  symlinkSync(join(REPO, 'src'), rig.path('src'));
  return rig;
}
