// DVC as the oracle for `massflow run dvc.yaml`: one fixture project is copied twice, one copy
// reproduced by the real `dvc repro`, the other by massflow, and after every step the two must hold
// the same files and must have executed the same stages. Both tools run commands through $SHELL
// with DVC_STAGE set, so a logging shell records which stages executed without touching the
// fixtures' commands.
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BIN, REPO } from '../e2e/rig.js';

/** Keep equal to scripts/dvc-venv.sh. */
export const DVC_VERSION = '3.66.1';
const VENV = process.env['MASSFLOW_DVC_VENV'] ?? join(REPO, '.venv-dvc');

/** The pinned DVC, installed by scripts/dvc-venv.sh when missing; an error message when that fails. */
export function ensureDvc(): { ok: true; bin: string } | { ok: false; message: string } {
  const bin = join(VENV, 'bin', 'dvc');
  try {
    execFileSync('bash', [join(REPO, 'scripts/dvc-venv.sh'), VENV], { stdio: 'pipe', timeout: 900_000 });
  } catch (e) {
    return { ok: false, message: `scripts/dvc-venv.sh failed: ${String((e as { stderr?: Buffer }).stderr ?? e).trim().split('\n').pop()}` };
  }
  return existsSync(bin) ? { ok: true, bin } : { ok: false, message: `no ${bin} after scripts/dvc-venv.sh` };
}

/** What either tool leaves besides the pipeline's own files. */
const TOOL_STATE = new Set(['.dvc', '.dvcignore', 'dvc.lock', '.massflow', 'runs', '.gitignore']);

export type Files = Record<string, string>;

export interface StepResult { executed: string[]; files: Files; code: number; log: string }

export class Pair {
  readonly root: string;
  readonly dvcDir: string;
  readonly mfDir: string;
  private readonly shell: string;

  constructor(readonly dvcBin: string, files: Files) {
    this.root = mkdtempSync(join(tmpdir(), 'massflow-dvc-'));
    this.dvcDir = join(this.root, 'dvc');
    this.mfDir = join(this.root, 'massflow');
    for (const dir of [this.dvcDir, this.mfDir]) for (const [p, c] of Object.entries(files)) write(join(dir, p), c);
    this.shell = join(this.root, 'logging-shell');
    writeFileSync(this.shell, '#!/bin/sh\n[ -n "$DVC_STAGE" ] && echo "$DVC_STAGE" >> "$EXEC_LOG"\nexec /bin/sh "$@"\n');
    chmodSync(this.shell, 0o755);
    execFileSync(dvcBin, ['init', '--no-scm', '-q'], { cwd: this.dvcDir, env: this.env('dvc') });
  }

  private env(tool: 'dvc' | 'massflow'): NodeJS.ProcessEnv {
    return {
      ...process.env,
      SHELL: this.shell,
      EXEC_LOG: join(this.root, `${tool}.log`),
      DVC_NO_ANALYTICS: '1',
      DVC_SITE_CACHE_DIR: join(this.root, 'dvc-site-cache'),
      NO_COLOR: '1',
      MASSFLOW_BACKEND: 'cpu',
    };
  }

  /** Applies an edit to both copies. */
  edit(fn: (dir: string) => void) { fn(this.dvcDir); fn(this.mfDir); }

  async dvc(args: string[] = ['repro']): Promise<StepResult> {
    return this.step('dvc', this.dvcDir, this.dvcBin, args);
  }

  async massflow(args: string[] = ['run', 'dvc.yaml', '--tracking-uri', 'none']): Promise<StepResult> {
    return this.step('massflow', this.mfDir, process.execPath, [BIN, ...args]);
  }

  private async step(tool: 'dvc' | 'massflow', cwd: string, file: string, args: string[]): Promise<StepResult> {
    const logFile = join(this.root, `${tool}.log`);
    rmSync(logFile, { force: true });
    const r = await execa(file, args, { cwd, env: this.env(tool), reject: false, all: true });
    const executed = existsSync(logFile) ? [...new Set(readFileSync(logFile, 'utf8').split('\n').filter(Boolean))].sort() : [];
    return { executed, files: snapshot(cwd), code: r.exitCode ?? -1, log: String(r.all) };
  }

  cleanup() { rmSync(this.root, { recursive: true, force: true }); }
}

export function write(path: string, content: string) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

/** Every file of a project but the tools' own state: relative path -> content. */
export function snapshot(dir: string, rel = ''): Files {
  const out: Files = {};
  for (const name of readdirSync(join(dir, rel)).sort()) {
    if (!rel && TOOL_STATE.has(name)) continue;
    const p = rel ? `${rel}/${name}` : name;
    if (statSync(join(dir, p)).isDirectory()) Object.assign(out, snapshot(dir, p));
    else out[p] = readFileSync(join(dir, p), 'utf8');
  }
  return out;
}
