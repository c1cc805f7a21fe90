// The study as the sweep sees it: ask a trial, report an intermediate value, tell how it ended.
// `openStudy` drives Optuna through python/massflow/optuna_study.py, one long-lived child per sweep
// speaking one JSON object per line each way; requests go one at a time, in order. The interpreter
// is the pinned Optuna virtualenv's (scripts/optuna-venv.sh): MASSFLOW_OPTUNA_PYTHON, else the
// project's .venv-optuna, else the one beside this installation.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PACKAGE_ROOT } from '../../core/package.js';
import { PYTHON_HELPER_DIR } from '../../exec/executor.js';
import { err, ok, type Result } from '../../core/result.js';

/** The pin; scripts/optuna-venv.sh installs it (a test keeps the two equal). */
export const OPTUNA_VERSION = '5.0.0';
export const OPTUNA_VENV = '.venv-optuna';

export type TrialState = 'complete' | 'pruned' | 'fail';

export interface StudyOpen {
  storage: string;
  study: string;
  /** One per objective: several make a multi-objective study (a Pareto front). */
  directions: ('minimize' | 'maximize')[];
  sampler: { name: string; seed?: number | undefined; options?: Record<string, unknown> | undefined };
  pruner: { name: string; options: Record<string, unknown> } | null;
  space: Record<string, unknown>;
  trials: number;
}

export interface AskedTrial { number: number; params: Record<string, unknown> }

/** The adapter the sweep drives; a fake implements it for unit tests. */
export interface Study {
  /** Trials a dead runner left running: failed in the study, their params queued to be asked again. */
  readonly requeued: number[];
  /** The next trial, or undefined once the study's budget is used up. */
  ask(): Promise<AskedTrial | undefined>;
  /** Reports an intermediate value; true when the pruner says the trial should stop. */
  report(number: number, step: number, value: number): Promise<boolean>;
  /** `values`: one per objective for a complete trial, else null. */
  tell(number: number, state: TrialState, values: number[] | null): Promise<void>;
  /** The study's best trials: the best one, or the Pareto front of several objectives. */
  best(): Promise<{ number: number; values: number[]; params: Record<string, unknown> }[]>;
  close(): Promise<void>;
}

/** The interpreter with the pinned Optuna, or why there is none. */
export function optunaPython(projectDir: string, env: NodeJS.ProcessEnv = process.env): Result<string, string> {
  if (env['MASSFLOW_OPTUNA_PYTHON']) return ok(env['MASSFLOW_OPTUNA_PYTHON']);
  for (const root of [projectDir, PACKAGE_ROOT]) {
    const py = join(root, OPTUNA_VENV, 'bin', 'python');
    if (existsSync(py)) return ok(py);
  }
  return err(`sweep.optuna needs Optuna ${OPTUNA_VERSION} in ${OPTUNA_VENV}: run \`bash ${join(PACKAGE_ROOT, 'scripts', 'optuna-venv.sh')} ${join(projectDir, OPTUNA_VENV)}\` (or set MASSFLOW_OPTUNA_PYTHON to a python that has it)`);
}

type Reply = { ok: true; [k: string]: unknown } | { ok: false; error: string; field?: OpenFailure['field'] };

/** Why the study did not open; `field` names the `sweep.optuna` field at fault, when one is. */
export interface OpenFailure { message: string; field?: 'storage' | 'sampler' | undefined }

class ReplyError extends Error {
  constructor(message: string, readonly field: OpenFailure['field']) { super(message); }
}

class StudyChild implements Study {
  requeued: number[] = [];
  private readonly replies: ((r: Reply) => void)[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private readonly stderr: string[] = [];
  private exited: string | undefined;

  constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let reply: Reply;
      try { reply = JSON.parse(line) as Reply; } catch { reply = { ok: false, error: `not a reply: ${line.slice(0, 200)}` }; }
      this.replies.shift()?.(reply);
    });
    createInterface({ input: child.stderr! }).on('line', (l) => { this.stderr.push(l); if (this.stderr.length > 20) this.stderr.shift(); });
    const gone = (why: string) => {
      this.exited = `the Optuna study process ${why}${this.stderr.length ? `: ${this.stderr.slice(-5).join(' | ')}` : ''}`;
      for (const r of this.replies.splice(0)) r({ ok: false, error: this.exited });
    };
    child.on('exit', (code, signal) => gone(signal ? `was killed by ${signal}` : `exited with ${code}`));
    child.on('error', (e) => gone(`could not start (${e.message})`));
  }

  /** One request, after the ones before it; a failed reply rejects with its message. */
  request(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    const next = this.chain.then(() => new Promise<Record<string, unknown>>((resolve, reject) => {
      if (this.exited) { reject(new Error(this.exited)); return; }
      this.replies.push((r) => (r.ok ? resolve(r) : reject(new ReplyError(r.error, r.field))));
      this.child.stdin!.write(JSON.stringify(msg) + '\n');
    }));
    this.chain = next.catch(() => undefined);
    return next;
  }

  async ask(): Promise<AskedTrial | undefined> {
    const r = await this.request({ op: 'ask' });
    return r['done'] ? undefined : { number: r['number'] as number, params: r['params'] as Record<string, unknown> };
  }

  async report(number: number, step: number, value: number): Promise<boolean> {
    return (await this.request({ op: 'report', number, step, value }))['prune'] === true;
  }

  async tell(number: number, state: TrialState, values: number[] | null): Promise<void> {
    await this.request({ op: 'tell', number, state, values });
  }

  async best() {
    return (await this.request({ op: 'best' }))['best'] as Awaited<ReturnType<Study['best']>>;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const ended = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin!.end();
    await ended;
  }
}

function startChild(python: string, cwd: string): StudyChild {
  return new StudyChild(spawn(python, ['-m', 'massflow.optuna_study'], {
    cwd, stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONPATH: [PYTHON_HELPER_DIR, process.env['PYTHONPATH']].filter(Boolean).join(':'), PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
  }));
}

const openFailure = (e: unknown): OpenFailure => ({ message: (e as Error).message, field: e instanceof ReplyError ? e.field : undefined });

/** Starts the study process and opens (or resumes) the study; a failure is the child's own message. */
export async function openStudy(python: string, spec: StudyOpen, cwd: string): Promise<Result<Study, OpenFailure>> {
  const study = startChild(python, cwd);
  try {
    const r = await study.request({ op: 'open', ...spec });
    study.requeued = r['requeued'] as number[];
    return ok(study);
  } catch (e) {
    await study.close();
    return err(openFailure(e));
  }
}

/** A trial as the study's storage holds it (Optuna's state names). */
export interface StoredTrial {
  number: number;
  state: 'COMPLETE' | 'PRUNED' | 'FAIL' | 'RUNNING' | 'WAITING';
  params: Record<string, unknown>;
  values: number[] | null;
  /** The last step an intermediate value was reported at (a pruned trial's). */
  last_step: number | null;
  /** Failed because the sweep running it died; asked again under a new number, not counted. */
  interrupted: boolean;
  /** Asked past the budget by a race between processes; not counted. */
  surplus: boolean;
  /** For a RUNNING trial: whether the sweep that asked it lives (false: the next sweep asks it again). */
  owner_alive: boolean | null;
}

export interface StudyState { exists: boolean; trials: StoredTrial[] }

/** The study as it stands, read without creating, recovering or asking anything. */
export async function inspectStudy(python: string, where: Pick<StudyOpen, 'storage' | 'study'>, cwd: string): Promise<Result<StudyState, OpenFailure>> {
  const child = startChild(python, cwd);
  try {
    return ok(await child.request({ op: 'inspect', ...where }) as unknown as StudyState);
  } catch (e) {
    return err(openFailure(e));
  } finally {
    await child.close();
  }
}
