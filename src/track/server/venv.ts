// The Python virtualenv that runs the MLflow server, with one pinned mlflow version: the project's
// own .venv-mlflow (the clone's `npm run setup` makes one) or the per-user one that `massflow setup`
// and the first `massflow mlflow up` elsewhere make, shared by every project.
// `massflow setup --mlflow` (and the clone's `npm run setup`) make it ahead of the first `mlflow up`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { userCacheDir } from '../../core/user-cache.js';
import { err, ok, type Result } from '../../core/result.js';

/** The pinned server version: recent 3.x that installs from PyPI and starts in seconds. */
export const MLFLOW_VERSION = '3.17.2';
/** Relative to the project directory. */
export const VENV_DIR = '.venv-mlflow';

/** The per-user virtualenv, named by the pin so that a new pin never reuses an old one. */
export function userVenvDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(userCacheDir(env), `mlflow-${MLFLOW_VERSION}`);
}

export interface FoundVenv {
  readonly dir: string;
  /** The mlflow version installed there; undefined when the venv does not exist or has none. */
  readonly version: string | undefined;
  readonly where: 'project' | 'user';
}

/**
 * The venv the server of `projectDir` runs from: the first of the project's .venv-mlflow and the
 * per-user one that has the pinned mlflow; else the one to create or repair (the project's when
 * it has a .venv-mlflow folder, the per-user one otherwise).
 */
export async function findVenv(projectDir: string, env: NodeJS.ProcessEnv = process.env): Promise<FoundVenv> {
  const candidates = [
    { dir: join(projectDir, VENV_DIR), where: 'project' as const },
    { dir: userVenvDir(env), where: 'user' as const },
  ];
  const found = await Promise.all(candidates.map(async (c) => ({ ...c, version: await installedMlflowVersion(c.dir) })));
  return found.find((c) => c.version === MLFLOW_VERSION) ?? (existsSync(found[0]!.dir) ? found[0]! : found[1]!);
}

export interface VenvError {
  readonly kind: 'python-missing' | 'venv-failed' | 'venv-missing';
  readonly message: string;
}

export function venvBin(venvDir: string, name: 'python' | 'mlflow'): string {
  return process.platform === 'win32' ? join(venvDir, 'Scripts', `${name}.exe`) : join(venvDir, 'bin', name);
}

/** The mlflow version installed in the venv, or undefined when there is none. */
export async function installedMlflowVersion(venvDir: string): Promise<string | undefined> {
  const py = venvBin(venvDir, 'python');
  if (!existsSync(py)) return undefined;
  const r = await execa(py, ['-c', 'from importlib.metadata import version; print(version("mlflow"))'], { reject: false, timeout: 60_000 });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/**
 * Creates the venv with the pinned mlflow when it is missing or holds another version. Takes about
 * a minute on first use (pip downloads mlflow and its dependencies); a no-op afterwards.
 */
export async function ensureVenv(venvDir: string, opts: { python?: string; onLog?: (line: string) => void; onOutput?: (line: string) => void } = {}): Promise<Result<{ created: boolean; version: string }, VenvError>> {
  const have = await installedMlflowVersion(venvDir);
  if (have === MLFLOW_VERSION) return ok({ created: false, version: have });

  const python = opts.python ?? process.env.MASSFLOW_PYTHON ?? 'python3';
  const probe = await execa(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { reject: false, timeout: 30_000 });
  if (probe.exitCode !== 0) {
    return err({ kind: 'python-missing', message: `Python 3.10 or newer is needed to run the embedded MLflow server, and \`${python}\` is not available. Install Python (or set MASSFLOW_PYTHON), or point MLFLOW_TRACKING_URI at an existing MLflow server.` });
  }
  const [major, minor] = probe.stdout.trim().split('.').map(Number);
  if (major !== 3 || (minor ?? 0) < 10) {
    return err({ kind: 'python-missing', message: `MLflow ${MLFLOW_VERSION} needs Python >= 3.10; \`${python}\` is ${probe.stdout.trim()}. Set MASSFLOW_PYTHON to a newer interpreter.` });
  }
  opts.onLog?.(`creating ${venvDir} with mlflow ${MLFLOW_VERSION} (about a minute, once)`);
  // An interrupted install is resumed: venv on an existing folder is a no-op, and pip skips what
  // it had already installed.
  const steps: [string, string[]][] = [
    [python, ['-m', 'venv', venvDir]],
    [venvBin(venvDir, 'python'), ['-m', 'pip', 'install', ...(opts.onOutput ? [] : ['--quiet']), '--disable-pip-version-check', `mlflow==${MLFLOW_VERSION}`]],
  ];
  for (const [cmd, args] of steps) {
    const child = execa(cmd, args, { reject: false, all: true, timeout: 15 * 60_000 });
    if (opts.onOutput && child.all) createInterface({ input: child.all }).on('line', opts.onOutput);
    const r = await child;
    if (r.exitCode !== 0) {
      const tail = (r.all ?? '').split('\n').slice(-15).join('\n');
      return err({ kind: 'venv-failed', message: `\`${[cmd, ...args].join(' ')}\` failed (exit ${r.exitCode}):\n${tail}` });
    }
  }
  const now = await installedMlflowVersion(venvDir);
  if (now !== MLFLOW_VERSION) return err({ kind: 'venv-failed', message: `mlflow ${MLFLOW_VERSION} is not importable from ${venvDir} after installing it` });
  return ok({ created: true, version: now });
}
