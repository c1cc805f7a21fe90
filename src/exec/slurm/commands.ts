// The Slurm client programs, run as child processes. Every call returns a result rather than
// throwing: a controller that does not answer is a state the executor reasons about, not a crash.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Brand } from '../../core/brand.js';
import { inheritedEnv } from '../stage-env.js';

/** A Slurm job id as sbatch prints it (without a `;cluster` suffix). */
export type JobId = Brand<string, 'SlurmJobId'>;

export interface CommandResult { code: number; stdout: string; stderr: string }

/** Generous: a loaded controller can take tens of seconds to answer, and retrying is worse. */
const COMMAND_TIMEOUT_MS = 120_000;

export function runCommand(file: string, args: readonly string[]): Promise<CommandResult> {
  return new Promise((resolve) => {
    // sbatch hands its own environment to the job (--export=ALL): it must carry no tracking secret.
    execFile(file, args, { env: inheritedEnv(), timeout: COMMAND_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr: stderr || (err && code === -1 ? err.message : '') });
    });
  });
}

/** Where `name` would be run from on PATH, if anywhere. */
export function onPath(name: string, path = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try { accessSync(p, constants.X_OK); return p; } catch { /* not here */ }
  }
  return undefined;
}

/** The client programs the executor needs; sacct is optional (clusters without slurmdbd lack it). */
export const REQUIRED_TOOLS = ['sbatch', 'squeue', 'scancel', 'scontrol'] as const;

export type SubmitResult = { ok: true; jobId: JobId } | { ok: false; message: string };

export async function sbatch(args: readonly string[]): Promise<SubmitResult> {
  const r = await runCommand('sbatch', args);
  // --parsable prints `id` or `id;cluster` on multi-cluster setups.
  const id = r.stdout.trim().split('\n').pop()?.split(';')[0]?.trim() ?? '';
  if (r.code !== 0 || !/^\d+(_\d+)?$/.test(id)) {
    return { ok: false, message: `sbatch failed (exit ${r.code}): ${oneLine(r.stderr || r.stdout) || 'no output'}` };
  }
  return { ok: true, jobId: id as JobId };
}

export async function scancel(ids: readonly JobId[]): Promise<CommandResult> {
  return ids.length ? runCommand('scancel', [...ids]) : { code: 0, stdout: '', stderr: '' };
}

export const oneLine = (s: string) => s.trim().split('\n').map((l) => l.trim()).filter(Boolean).join('; ');
