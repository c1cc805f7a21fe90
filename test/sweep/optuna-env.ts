// What the Optuna sweep tests need: the pinned Optuna virtualenv, created here through
// scripts/optuna-venv.sh when missing (CI runs the same script first). In CI a missing venv fails
// the tests; elsewhere they are skipped with the reason.
import { spawnSync } from 'node:child_process';
import { beforeAll } from 'vitest';
import { join } from 'node:path';
import { OPTUNA_VERSION } from '../../src/sweep/optuna/study-child.js';
import { REPO, type Rig } from '../e2e/rig.js';
import { pinnedVenvPython } from '../python/python-env.js';

export const OPTUNA_VENV_DIR = process.env.MASSFLOW_OPTUNA_VENV ?? join(REPO, '.venv-optuna');
import { IN_CI } from '../python/python-env.js';
export { IN_CI };

/** The venv's python, after creating the venv if need be; or why there is none. */
export const optunaVenvPython = () => pinnedVenvPython('scripts/optuna-venv.sh', OPTUNA_VENV_DIR, `Optuna ${OPTUNA_VERSION}`);

/**
 * For a test file that runs the real CLI on an Optuna study: the venv's python (in CI a missing
 * venv fails the file; elsewhere its tests skip, saying why), and the environment its sweeps need.
 */
export function optunaCli(): { ok: boolean; python: string; env: (r: Rig) => Record<string, string> } {
  const venv = optunaVenvPython();
  if (!venv.ok && IN_CI) throw new Error(venv.reason);
  beforeAll(() => { if (!venv.ok) console.warn(`skipping: ${venv.reason}`); });
  const python = venv.ok ? venv.python : '';
  return { ok: venv.ok, python, env: (r) => ({ COUNT_DIR: r.path('count'), MASSFLOW_OPTUNA_PYTHON: python }) };
}

/** The study's trials as Optuna itself stores them (read with Optuna, not with massflow). */
export function studyTrials(python: string, storage: string, study: string): { number: number; state: string; params: Record<string, number>; value: number | null; attrs: Record<string, unknown> }[] {
  return optunaJson(python, storage, study, '[{"number": t.number, "state": t.state.name, "params": t.params, "value": t.value if len(s.directions) == 1 else None, "attrs": t.user_attrs} for t in s.trials]');
}

/** Each trial's state and the intermediate values reported for it (step -> value), as Optuna stores them. */
export function studyCurves(python: string, storage: string, study: string): { state: string; intermediate: Record<string, number> }[] {
  return optunaJson(python, storage, study, '[{"state": t.state.name, "intermediate": t.intermediate_values} for t in s.trials]');
}

/** A multi-objective study's trials with their values, and the numbers of its best trials (its Pareto front), as Optuna finds them. */
export function studyFront(python: string, storage: string, study: string): { trials: { number: number; state: string; params: Record<string, number>; values: number[] | null }[]; best: number[] } {
  return optunaJson(python, storage, study, '{"trials": [{"number": t.number, "state": t.state.name, "params": t.params, "values": t.values} for t in s.trials], "best": sorted(t.number for t in s.best_trials)}');
}

/** `expr` (Python, with the loaded study as `s`) as JSON; `storage` is a database URL or `journal:FILE`. */
function optunaJson<T>(python: string, storage: string, study: string, expr: string): T {
  // `journal:FILE` as the study process spells Optuna's journal file storage.
  const code = `import json, optuna, sys
from optuna.storages.journal import JournalFileBackend
url = sys.argv[1]
store = optuna.storages.JournalStorage(JournalFileBackend(url[8:])) if url.startswith("journal:") else url
s = optuna.load_study(study_name=sys.argv[2], storage=store)
print(json.dumps(${expr}))`;
  const r = spawnSync(python, ['-c', code, storage, study], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as T;
}
