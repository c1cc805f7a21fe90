// What the Slurm tests share: a check that a real cluster answers (failing, never skipping, with
// how to start one), the jobs a test project submitted as Slurm itself lists them, and projects
// holding the repository's smoke pipeline.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, Rig } from '../e2e/rig.js';

/** Throws with the command that starts the test cluster when sbatch is missing or nobody answers. */
export function requireSlurm(): void {
  const how = 'start the one-node test cluster with `scripts/slurm-local.sh up` (as root), then rerun the tests';
  const ping = spawnSync('scontrol', ['ping'], { encoding: 'utf8' });
  if (ping.error) throw new Error(`Slurm is not installed here (scontrol: ${ping.error.message}): ${how}`);
  if (ping.status !== 0 || !/UP/.test(ping.stdout)) throw new Error(`the Slurm controller does not answer (${(ping.stdout + ping.stderr).trim()}): ${how}`);
  const node = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8' }).stdout.trim();
  if (!/idle|mixed|allocated|completing/.test(node)) throw new Error(`the Slurm node is '${node || 'missing'}', not usable: ${how}`);
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
