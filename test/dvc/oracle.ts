// DVC as the oracle for `massflow run dvc.yaml`: one fixture project is copied twice, one copy
// reproduced by the real `dvc repro`, the other by massflow, and after every step the two must hold
// the same files and must have executed the same stages. Both tools run commands through $SHELL
// with DVC_STAGE set, so a logging shell records which stages executed without touching the
// fixtures' commands. DVC runs through dvc-server.py: its own entry point in a forked child, so each
// step does not pay Python's start-up and DVC's imports again.
import { execa } from 'execa';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
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

/** One long-lived dvc-server.py; requests are served one at a time, in order. */
export class DvcServer {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting: ((code: number) => void)[] = [];
  #tail: Promise<unknown> = Promise.resolve();

  constructor(dvcBin: string) {
    this.#child = spawn(join(dirname(dvcBin), 'python'), [join(REPO, 'test/dvc/dvc-server.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    this.#child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: this.#child.stdout }).on('line', (line) => this.#waiting.shift()?.((JSON.parse(line) as { code: number }).code));
    this.#child.once('exit', (code) => {
      for (const w of this.#waiting.splice(0)) w(-1);
      if (code) process.stderr.write(`dvc-server.py exited ${code}: ${stderr}\n`);
    });
  }

  /** `dvc ARGS` in `cwd` with `env`; its output goes to `log`. Resolves to the exit code. */
  run(cwd: string, env: NodeJS.ProcessEnv, args: readonly string[], log: string): Promise<number> {
    const next = this.#tail.then(() => new Promise<number>((resolve) => {
      if (this.#child.exitCode !== null) return resolve(-1);
      this.#waiting.push(resolve);
      this.#child.stdin.write(`${JSON.stringify({ cwd, env, args, log })}\n`);
    }));
    this.#tail = next;
    return next;
  }

  close(): void {
    this.#child.stdin.end();
  }
}

export interface StepResult { executed: string[]; files: Files; code: number; log: string }

export class Pair {
  readonly root: string;
  readonly dvcDir: string;
  readonly mfDir: string;
  private readonly shell: string;

  #initialized = false;

  constructor(private readonly server: DvcServer, files: Files) {
    this.root = mkdtempSync(join(tmpdir(), 'massflow-dvc-'));
    this.dvcDir = join(this.root, 'dvc');
    this.mfDir = join(this.root, 'massflow');
    for (const dir of [this.dvcDir, this.mfDir]) for (const [p, c] of Object.entries(files)) write(join(dir, p), c);
    this.shell = join(this.root, 'logging-shell');
    writeFileSync(this.shell, '#!/bin/sh\n[ -n "$DVC_STAGE" ] && echo "$DVC_STAGE" >> "$EXEC_LOG"\nexec /bin/sh "$@"\n');
    chmodSync(this.shell, 0o755);
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
    if (!this.#initialized) {
      const out = join(this.root, 'dvc-init.out');
      const code = await this.server.run(this.dvcDir, this.env('dvc'), ['init', '--no-scm', '-q'], out);
      if (code !== 0) throw new Error(`dvc init failed (${code}): ${readFileSync(out, 'utf8')}`);
      this.#initialized = true;
    }
    const logFile = join(this.root, 'dvc.log');
    rmSync(logFile, { force: true });
    const out = join(this.root, 'dvc.out');
    const code = await this.server.run(this.dvcDir, this.env('dvc'), args, out);
    return { executed: executed(logFile), files: snapshot(this.dvcDir), code, log: readFileSync(out, 'utf8') };
  }

  async massflow(args: string[] = ['run', 'dvc.yaml', '--tracking-uri', 'none']): Promise<StepResult> {
    const logFile = join(this.root, 'massflow.log');
    rmSync(logFile, { force: true });
    const r = await execa(process.execPath, [BIN, ...args], { cwd: this.mfDir, env: this.env('massflow'), reject: false, all: true });
    return { executed: executed(logFile), files: snapshot(this.mfDir), code: r.exitCode ?? -1, log: String(r.all) };
  }

  cleanup() { rmSync(this.root, { recursive: true, force: true }); }
}

/** The stages the logging shell saw, once each, sorted. */
function executed(logFile: string): string[] {
  return existsSync(logFile) ? [...new Set(readFileSync(logFile, 'utf8').split('\n').filter(Boolean))].sort() : [];
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
