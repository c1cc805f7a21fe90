// The end-to-end rig: builds a throwaway project in a temp dir and drives the real CLI (the built
// bin), returning exact output with the unstable parts (run ids, durations) normalised.
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const BIN = join(REPO, 'bin', 'massflow.js');
/** For stage modules in a temp project: import the stage contract from this checkout. */
export const DEFINE_URL = pathToFileURL(join(REPO, 'src/stage/define.ts')).href;

export interface CliResult { code: number; stdout: string; stderr: string }

export function normalize(s: string): string {
  return s
    .replace(/\d{8}-\d{6}-[0-9a-f]{6}/g, 'RUNID')
    .replace(/\b\d+(\.\d+)?s\b/g, 'Ns')
    .replace(/\b\d+m\d\ds\b/g, 'Ns')
    .replace(/jobs \d+/g, 'jobs N')
    .replace(/pid \d+ on [^)]+/g, 'pid P on HOST');
}

/**
 * What the CLI gets from the shell running the tests: only where programs are (PATH), the home
 * directory (per-user caches), and where temp files go. Nothing else leaks in, so an exported
 * MLFLOW_TRACKING_URI or MASSFLOW_* cannot change output the tests assert exactly; a test passes
 * what it needs itself.
 */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

export class Rig {
  private constructor(readonly dir: string) {}

  static create(files: Record<string, string> = {}): Rig {
    const dir = mkdtempSync(join(tmpdir(), 'massflow-e2e-'));
    // Stage modules resolve packages (typebox, tsx) from the checkout's node_modules.
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
    const rig = new Rig(dir);
    for (const [p, c] of Object.entries(files)) rig.write(p, c);
    return rig;
  }

  path(p: string) { return join(this.dir, p); }
  write(p: string, content: string) { mkdirSync(dirname(this.path(p)), { recursive: true }); writeFileSync(this.path(p), content); }
  read(p: string) { return readFileSync(this.path(p), 'utf8'); }
  exists(p: string) { return existsSync(this.path(p)); }

  spawn(args: string[], env: Record<string, string> = {}): ResultPromise<{ reject: false; all: false }> {
    return execa(process.execPath, [BIN, ...args], {
      cwd: this.dir,
      reject: false,
      env: { ...baseEnv(), CI: '1', NO_COLOR: '1', MASSFLOW_BACKEND: 'cpu', ...env },
      extendEnv: false,
      stripFinalNewline: false,
    }) as never;
  }

  async run(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    const r = await this.spawn(args, env);
    return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  cleanup() { rmSync(this.dir, { recursive: true, force: true }); }
}

/**
 * A TS stage module body that writes `text` to its first out and counts its runs in `count/`.
 * `untilFile`: holds the stage until the test creates that file (at most 60 s), so a test can act
 * while the stage runs whatever the machine's load.
 */
export function writerStage(opts: { text?: string; sleepMs?: number; fail?: boolean; readDep?: boolean; untilFile?: string } = {}): string {
  return `
import { existsSync, mkdirSync, writeFileSync, appendFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { defineStage } from '${DEFINE_URL}';
export default defineStage({
  async run(ctx) {
    mkdirSync(join(ctx.projectDir, 'count'), { recursive: true });
    appendFileSync(join(ctx.projectDir, 'count', ctx.stageId), 'x');
    ${opts.sleepMs ? `await new Promise((r) => setTimeout(r, ${opts.sleepMs}));` : ''}
    ${opts.untilFile ? `for (let i = 0; i < 1200 && !existsSync(join(ctx.projectDir, ${JSON.stringify(opts.untilFile)})); i++) await new Promise((r) => setTimeout(r, 50));` : ''}
    ${opts.fail ? `throw new Error('boom in ' + ctx.stageId);` : ''}
    const input = ${opts.readDep ? `ctx.deps.map((d) => readFileSync(d, 'utf8')).join('')` : `''`};
    mkdirSync(dirname(ctx.outDir), { recursive: true });
    writeFileSync(ctx.outDir, input + ${JSON.stringify(opts.text ?? 'out')} + JSON.stringify(ctx.params) + '\\n');
    ctx.metric('score', 1.5, 0);
  },
});
`;
}
