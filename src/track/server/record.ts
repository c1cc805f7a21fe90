// Where the project's embedded MLflow server says it is (.mlflow/server.json) and whether it still
// lives: all a run needs to choose it, without the modules that start or stop it (process
// management, HTTP), which every executing run would otherwise load.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const MLFLOW_DATA_DIR = '.mlflow';
export const PID_FILE = 'server.json';

export interface PidRecord {
  readonly pid: number;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly version: string;
  readonly startedAt: string;
}

export function mlflowServerRecord(projectDir: string): { pid: number; url: string; port: number } | undefined {
  const rec = readPid(join(resolve(projectDir), MLFLOW_DATA_DIR));
  return rec && isAlive(rec.pid) ? { pid: rec.pid, url: rec.url, port: rec.port } : undefined;
}

export function readPid(dataDir: string): PidRecord | undefined {
  const file = join(dataDir, PID_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const rec = JSON.parse(readFileSync(file, 'utf8')) as PidRecord;
    return typeof rec.pid === 'number' && rec.pid > 0 ? rec : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
