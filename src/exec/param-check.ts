// The param pre-flight: before a run or sweep starts anything, every TypeScript stage about to run
// has its params checked against its module's schema, in one child process. A mistyped `-p` then
// fails in a second with a located message, not minutes later when the stage's turn comes. The
// stage child still checks again (stage-child.ts): the pre-flight is an early answer, not the only
// guard, and when it cannot run at all it says nothing rather than block the run.
import { fork } from 'node:child_process';
import { inheritedEnv } from './stage-env.js';
import { fileURLToPath } from 'node:url';
import type { StageInstance } from '../spec/model.js';
import type { ParamProblem } from '../spec/param-diagnostics.js';
import { stageLoaderArgs } from './stage-loaders.js';

export type { ParamProblem };
export interface ParamCheckRequest { projectDir: string; module: string; params: Record<string, unknown> }
/** One distinct (module, params) pair and the stage instances that share it. */
export interface ParamCheckGroup { request: ParamCheckRequest; stages: StageInstance[] }

const CHILD_ENTRY = fileURLToPath(new URL('./param-check-child.js', import.meta.url));
const TIMEOUT_MS = 60_000;

/** The TS stages among `stages`, grouped by module and params: each group is checked once. */
export function paramCheckGroups(projectDir: string, stages: readonly StageInstance[]): ParamCheckGroup[] {
  const groups = new Map<string, ParamCheckGroup>();
  for (const s of stages) {
    if (s.impl.kind !== 'ts') continue;
    const key = JSON.stringify([s.impl.module, s.params]);
    const g = groups.get(key);
    if (g) g.stages.push(s);
    else groups.set(key, { request: { projectDir, module: s.impl.module, params: s.params }, stages: [s] });
  }
  return [...groups.values()];
}

/** Runs the checks: each group with what its stage rejected ([] when nothing, or when the child could not answer). */
export async function checkStageParams(groups: readonly ParamCheckGroup[]): Promise<{ group: ParamCheckGroup; errors: ParamProblem[] }[]> {
  if (!groups.length) return [];
  const answer = await ask(groups.map((g) => g.request));
  if (!answer || answer.length !== groups.length) return [];
  return groups.map((group, i) => ({ group, errors: answer[i]! })).filter((r) => r.errors.length > 0);
}

function ask(requests: readonly ParamCheckRequest[]): Promise<ParamProblem[][] | undefined> {
  return new Promise((resolve) => {
    const child = fork(CHILD_ENTRY, [], {
      cwd: requests[0]!.projectDir,
      // Stage modules are imported here too: they get no tracking secret either.
      env: inheritedEnv(),
      execArgv: stageLoaderArgs(),
      // A module's own output at import time is not the runner's to show.
      stdio: ['pipe', 'ignore', 'ignore', 'ipc'],
      timeout: TIMEOUT_MS,
    });
    let answer: ParamProblem[][] | undefined;
    child.on('message', (m) => { if (Array.isArray(m)) answer = m as ParamProblem[][]; });
    child.on('error', () => resolve(undefined));
    child.on('close', () => resolve(answer));
    child.stdin!.end(JSON.stringify(requests));
  });
}
