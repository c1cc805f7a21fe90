// A tiny project for sweep tests through the real CLI: three command stages (prep -> fit -> score)
// that count their executions in $COUNT_DIR, a param that makes fit fail, one that makes it
// nondeterministic, and score's loss |lr - 0.2| as the metric to minimise.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stageEnv, type Executor, type ExecResult, type StageJob } from '../../src/exec/executor.js';
import { Rig } from '../e2e/rig.js';

export const PIPELINE = `name: tiny
params:
  prep: { n: 3 }
  fit: { lr: 0.1, fail: 0, noise: 0 }
stages:
  prep:
    cmd: [node, step.mjs, prep, data/prep.txt]
    params: [prep]
    outs: [data/prep.txt]
  fit:
    cmd: [node, step.mjs, fit, models/fit.txt, "", data/prep.txt]
    deps: [data/prep.txt]
    params: [fit]
    outs: [models/fit.txt]
  score:
    cmd: [node, step.mjs, score, reports/score.txt, metrics/score.json, models/fit.txt]
    deps: [models/fit.txt]
    outs: [reports/score.txt]
    metrics: [metrics/score.json]
`;

export const STEP = `import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
const [name, out, metrics, input] = process.argv.slice(2);
const params = JSON.parse(process.env.MASSFLOW_PARAMS);
appendFileSync(join(process.env.COUNT_DIR, name), 'x');
if (params.fit?.fail) { console.error(name + ': failing on purpose'); process.exit(3); }
const from = input ? readFileSync(input, 'utf8').trim() : '';
const text = name === 'prep' ? 'prep n=' + params.prep.n
  : name === 'fit' ? 'fit lr=' + params.fit.lr + (params.fit.noise ? ' noise=' + Math.random() : '') + ' <- ' + from
  : 'score <- ' + from;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, text + '\\n');
if (metrics) {
  mkdirSync(dirname(metrics), { recursive: true });
  writeFileSync(metrics, JSON.stringify({ loss: Math.abs(Number(/lr=([0-9.e-]+)/.exec(from)[1]) - 0.2) }));
}
`;

export const GRID = `pipeline: pipelines/tiny.yaml
sweep:
  grid:
    fit.lr: [0.1, 0.2, 0.4]
objective: { metric: score/loss, direction: min }
`;

export function sweepRig(experiments: Record<string, string>): Rig {
  const rig = Rig.create({ 'pipelines/tiny.yaml': PIPELINE, 'step.mjs': STEP, 'count/.keep': '' });
  for (const [name, text] of Object.entries(experiments)) rig.write(`experiments/${name}`, text);
  return rig;
}

/** How many times each stage executed, across every trial and workspace. */
export function executions(rig: Rig): Record<string, number> {
  const dir = rig.path('count');
  return Object.fromEntries(readdirSync(dir).filter((f) => !f.startsWith('.')).sort().map((f) => [f, readFileSync(join(dir, f), 'utf8').length]));
}

export const env = (rig: Rig) => ({ COUNT_DIR: rig.path('count') });

/** The only sweep id under runs/ (or the latest). */
export function sweepIds(rig: Rig): string[] {
  return readdirSync(rig.path('runs')).filter((d) => !d.includes('.')).sort();
}

/**
 * Runs the fixture's command stages as the local executor would (same environment, cwd, exit
 * codes), in a form vitest can load: the local executor's module resolves its child entry with
 * import.meta.resolve, which vitest's module runner does not provide.
 */
export class CommandExecutor implements Executor {
  readonly name = 'local';
  run(job: StageJob): Promise<ExecResult> {
    if (job.impl.kind !== 'cmd') return Promise.resolve({ ok: false, failure: { kind: 'spawn', message: 'command stages only' } });
    const [prog, ...args] = job.impl.argv;
    return new Promise((done) => execFile(prog!, args, { cwd: job.projectDir, env: { ...process.env, ...stageEnv(job) } }, (e) => {
      done(e ? { ok: false, failure: { kind: 'exit', code: typeof e.code === 'number' ? e.code : null, signal: e.signal ?? null } } : { ok: true });
    }));
  }
}
