// What the Optuna sweep tests need: the pinned Optuna virtualenv, created here through
// scripts/optuna-venv.sh when missing (CI runs the same script first). In CI a missing venv fails
// the tests; elsewhere they are skipped with the reason.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { OPTUNA_VERSION } from '../../src/sweep/optuna/study-child.js';
import { REPO } from '../e2e/rig.js';
import { pinnedVenvPython } from '../python/python-env.js';

export const OPTUNA_VENV_DIR = process.env.MASSFLOW_OPTUNA_VENV ?? join(REPO, '.venv-optuna');
export { IN_CI } from '../python/python-env.js';

/** The venv's python, after creating the venv if need be; or why there is none. */
export const optunaVenvPython = () => pinnedVenvPython('scripts/optuna-venv.sh', OPTUNA_VENV_DIR, `Optuna ${OPTUNA_VERSION}`);

/** The study's trials as Optuna itself stores them (read with Optuna, not with massflow). */
export function studyTrials(python: string, storage: string, study: string): { number: number; state: string; params: Record<string, number>; value: number | null; attrs: Record<string, unknown> }[] {
  const code = `import json, optuna, sys
s = optuna.load_study(study_name=sys.argv[2], storage=sys.argv[1])
print(json.dumps([{"number": t.number, "state": t.state.name, "params": t.params, "value": t.value, "attrs": t.user_attrs} for t in s.trials]))`;
  const r = spawnSync(python, ['-c', code, storage, study], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}
