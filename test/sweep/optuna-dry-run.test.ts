// `massflow sweep --dry-run` on an Optuna experiment, through the real CLI and a real study: before
// any sweep, and on a study that Optuna itself filled with a complete, a pruned, a failed trial, one
// left running by a dead sweep and one running on another host. Exact output; the dry run neither
// creates the study's file (nor its folder) nor changes a trial (the dead sweep's trial stays RUNNING).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { Rig } from '../e2e/rig.js';
import { optunaCli, studyTrials } from './optuna-env.js';
import { experiment, optunaRig } from './optuna-fixture.js';

const { ok, python, env } = optunaCli();

let rig: Rig;
afterAll(() => rig?.cleanup());

const HEAD = `experiments/d.yaml on pipelines/quad.yaml: an optuna sweep asks each trial while it runs, so none is listed ahead (--dry-run asks nothing and changes nothing)
sampler    tpe, seed 3, n_startup_trials 4
pruner     median on fit/loss, warmup_steps 1, startup_trials 2
objective  min fit/final
space      fit.x uniform [0, 1]
           fit.mode choice [plain, shifted]
           fit.shift uniform [0, 1], step 0.1, when fit.mode=shifted
`;

/** The study as a sweep, its sweep killed, and another machine would leave it (written with Optuna's own API). */
const FILL = `import socket, sys, optuna
from optuna.distributions import CategoricalDistribution as C, FloatDistribution as F
from optuna.trial import TrialState as S, create_trial
s = optuna.create_study(study_name="d", storage=sys.argv[1], direction="minimize")
x, mode, shift = F(0, 1), C(["plain", "shifted"]), F(0, 1, step=0.1)
s.add_trial(create_trial(params={"fit.x": 0.7, "fit.mode": "plain"}, distributions={"fit.x": x, "fit.mode": mode}, value=0.09))
s.add_trial(create_trial(state=S.PRUNED, params={"fit.x": 0.25, "fit.mode": "plain"}, distributions={"fit.x": x, "fit.mode": mode}, intermediate_values={0: 1.5, 1: 1.2}))
s.add_trial(create_trial(state=S.FAIL, params={"fit.x": 0.5, "fit.mode": "shifted", "fit.shift": 0.3}, distributions={"fit.x": x, "fit.mode": mode, "fit.shift": shift}))
for host, pid in ((socket.gethostname(), 4194303), ("elsewhere", 1)):
    t = s.ask({"fit.x": x})
    t.set_user_attr("massflow.owner", {"host": host, "pid": pid, "start": "0"})
`;

describe.skipIf(!ok)('massflow sweep --dry-run of an Optuna experiment', () => {
  it('says what the study holds and what a sweep would do, and changes nothing', async () => {
    rig = optunaRig({ 'd.yaml': experiment(`sampler: tpe
seed: 3
sampler_options: { n_startup_trials: 4 }
trials: 6
params:
  fit.x: { uniform: [0, 1] }
  fit.mode: { choice: [plain, shifted] }
  fit.shift: { uniform: [0, 1], step: 0.1, when: { fit.mode: shifted } }
prune: { pruner: median, metric: fit/loss, warmup_steps: 1, startup_trials: 2 }`) });
    const before = await rig.run(['sweep', 'experiments/d.yaml', '--dry-run'], env(rig));
    expect(before.stderr).toBe('');
    expect(before.stdout).toBe(`${HEAD}study      'd' in .massflow/optuna/d.db: none yet (the first sweep creates it); 6 trials to ask\n`);
    expect(before.code).toBe(0);
    expect(rig.exists('.massflow/optuna')).toBe(false);

    mkdirSync(rig.path('.massflow/optuna'), { recursive: true });
    const storage = `sqlite:///${rig.path('.massflow/optuna/d.db')}`;
    const fill = spawnSync(python, ['-c', FILL, storage], { encoding: 'utf8' });
    expect(fill.status, fill.stderr).toBe(0);
    const stored = studyTrials(python, storage, 'd');

    const r = await rig.run(['sweep', 'experiments/d.yaml', '--dry-run'], env(rig));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${HEAD}study      'd' in .massflow/optuna/d.db: 4 of 6 trials used (1 complete, 1 pruned, 1 failed, 1 running), 2 left
           t003 was left running by a sweep that is gone: the next sweep marks it failed and asks its params again first
finished trials, kept in the study (a sweep does not run them again):
  t000  complete  final=0.0900  fit.x=0.7  fit.mode=plain
  t001  pruned at step 1  fit.x=0.25  fit.mode=plain
  t002  failed  fit.x=0.5  fit.mode=shifted  fit.shift=0.3
`);
    expect(r.code).toBe(0);
    expect(studyTrials(python, storage, 'd')).toEqual(stored);
    expect(stored.map((t) => t.state)).toEqual(['COMPLETE', 'PRUNED', 'FAIL', 'RUNNING', 'RUNNING']);
    expect(rig.exists('count/prep')).toBe(false);
  }, 60_000);
});
