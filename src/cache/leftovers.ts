// Temp files and directories a killed massflow process left in the workspace (a restore is staged
// beside its destination, so a kill mid-restore leaves `.restore.tmp-PID-XXXX` next to the output).
// Digests never include them (see digest-path.ts); this removes those whose writer is gone.
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tempOwner } from './atomic.js';

/** True unless `pid` certainly names no process (a pid reused by another process only delays removal). */
export function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code !== 'ESRCH'; }
}

/** Removes the temp entries directly inside `dir` whose writing process has died; returns their names. */
export async function removeLeftovers(dir: string): Promise<string[]> {
  let names: string[];
  try { names = readdirSync(dir); } catch { return []; }
  const dead = names.filter((n) => {
    const pid = tempOwner(n);
    return pid !== undefined && pid !== process.pid && !pidAlive(pid);
  });
  for (const n of dead) await rm(join(dir, n), { recursive: true, force: true });
  return dead;
}

/** Before a run: what dead writers left beside any of these outputs (paths under `root`). */
export async function removeLeftoversBeside(root: string, outs: Iterable<string>): Promise<void> {
  const dirs = new Set<string>();
  for (const out of outs) dirs.add(dirname(join(root, out)));
  for (const dir of dirs) await removeLeftovers(dir);
}
