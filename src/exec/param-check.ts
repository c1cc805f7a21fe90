// The param pre-flight: before a run starts anything, every TypeScript stage about to run has its
// params checked against its module's schema, in one child process. A mistyped `-p` then fails in
// a second with a located message, not minutes later when the stage's turn comes. The stage child
// still checks again (stage-child.ts): the pre-flight is an early answer, not the only guard, and
// when it cannot run at all it says nothing rather than block the run.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StageId } from '../core/brand.js';
import type { StageInstance } from '../spec/model.js';

export interface ParamCheckRequest { id: StageId; projectDir: string; module: string; params: Record<string, unknown> }
export interface ParamProblem { path: string[]; message: string }
export interface ParamCheckResult { id: StageId; errors: ParamProblem[] }

const CHILD_ENTRY = fileURLToPath(new URL('./param-check-child.js', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');
const TIMEOUT_MS = 60_000;

/** The check requests for the TS stages among `stages`, one per distinct module and params. */
export function paramCheckRequests(projectDir: string, stages: readonly StageInstance[]): ParamCheckRequest[] {
  const seen = new Set<string>();
  const out: ParamCheckRequest[] = [];
  for (const s of stages) {
    if (s.impl.kind !== 'ts') continue;
    const key = JSON.stringify([s.impl.module, s.params]);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ id: s.id, projectDir, module: s.impl.module, params: s.params });
  }
  return out;
}

/** Runs the checks; the results that found problems, or [] when the child could not answer. */
export function checkStageParams(requests: readonly ParamCheckRequest[], signal?: AbortSignal): Promise<ParamCheckResult[]> {
  if (!requests.length) return Promise.resolve([]);
  return new Promise((resolve) => {
    const child = fork(CHILD_ENTRY, [], {
      cwd: requests[0]!.projectDir,
      execArgv: ['--import', TSX_LOADER],
      // A module's own output at import time is not the runner's to show.
      stdio: ['pipe', 'ignore', 'ignore', 'ipc'],
      timeout: TIMEOUT_MS,
      ...(signal ? { signal } : {}),
    });
    let answer: ParamCheckResult[] | undefined;
    child.on('message', (m) => { answer = m as ParamCheckResult[]; });
    child.on('error', () => resolve([]));
    child.on('close', () => resolve(Array.isArray(answer) ? answer.filter((r) => r.errors.length > 0) : []));
    child.stdin!.end(JSON.stringify(requests));
  });
}
