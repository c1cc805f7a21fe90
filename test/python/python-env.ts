// What the Python stage tests need: python3, and for the DVCLive tests a virtualenv with the pinned
// dvclive from PyPI, created here through scripts/dvclive-venv.sh when missing (CI runs the same
// script). In CI a missing piece fails the tests; elsewhere they are skipped with the reason.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, type Rig } from '../e2e/rig.js';

export const DVCLIVE_VERSION = '3.49.1';
export const DVCLIVE_VENV = process.env.MASSFLOW_DVCLIVE_VENV ?? join(REPO, '.venv-dvclive');
export const IN_CI = Boolean(process.env.CI);

/** The venv's python, after creating the venv if need be; or why there is none. */
export function dvclivePython(): { ok: true; python: string } | { ok: false; reason: string } {
  return pinnedVenvPython('scripts/dvclive-venv.sh', DVCLIVE_VENV, `dvclive ${DVCLIVE_VERSION}`);
}

/** The python of the virtualenv `script` (a scripts/*-venv.sh) makes or repairs at `venv`; or why there is none. */
export function pinnedVenvPython(script: string, venv: string, what: string): { ok: true; python: string } | { ok: false; reason: string } {
  const python = join(venv, 'bin', 'python');
  const r = spawnSync('bash', [join(REPO, script), venv], { encoding: 'utf8', timeout: 600_000 });
  if (r.status === 0 && existsSync(python)) return { ok: true, python };
  return { ok: false, reason: `no ${what} virtualenv at ${venv} (${script} failed: ${(r.stderr || r.error?.message || '').trim().split('\n').at(-1)})` };
}

export function hasPython3(): boolean {
  return spawnSync('python3', ['--version']).status === 0;
}

export const lastRunId = (rig: Rig) => readdirSync(rig.path('runs')).filter((d) => /^\d{8}-/.test(d)).sort().at(-1);

/** The points the run record holds so far (runs/<id>/metrics.jsonl is appended as each arrives). */
export function recordedPoints(rig: Rig, runId: string): { stage: string; key: string; value: number; step: number | null }[] {
  const file = rig.path(`runs/${runId}/metrics.jsonl`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** Ids of the processes whose environment says they belong to this massflow run (stages and their children). */
export function processesOfRun(runId: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let env: string;
    try { env = readFileSync(`/proc/${d}/environ`, 'latin1'); } catch { continue; }
    if (env.split('\0').includes(`MASSFLOW_RUN_ID=${runId}`)) pids.push(Number(d));
  }
  return pids;
}

/** Waits (at most a minute) for a file the test creates, so the stage is still running while the test looks. */
export const WAIT_FOR_RELEASE = `
def wait_for(path):
    import os, time
    t = time.time()
    while not os.path.exists(path):
        if time.time() - t > 60:
            raise SystemExit("never released")
        time.sleep(0.02)
`;
