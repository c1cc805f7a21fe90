// A script instrumented with real DVCLive (from PyPI, in the venv scripts/dvclive-venv.sh makes)
// runs unchanged as a stage: the rows DVCLive writes stream as step metrics while it trains, and its
// metrics.json is the summary without repeating them.
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, Rig } from '../e2e/rig.js';
import { until } from '../slurm/cluster.js';
import { dvclivePython, IN_CI, lastRunId, recordedPoints, WAIT_FOR_RELEASE } from './python-env.js';

const venv = dvclivePython();
if (!venv.ok && IN_CI) throw new Error(`CI must have DVCLive for these tests: ${venv.reason}`);

const SCRIPT = `
import os
from dvclive import Live
${WAIT_FOR_RELEASE}
with Live(dvcyaml=None, save_dvc_exp=False) as live:
    for epoch in range(6):
        live.log_metric("loss", 1.0 / (epoch + 1))
        live.log_metric("train/acc", epoch / 10)
        live.next_step()
        if epoch == 2:
            wait_for("release")
    live.summary["best"] = 0.9
os.makedirs("out", exist_ok=True)
open("out/model.txt", "w").write("m")
`;

let rig: Rig | undefined;
afterAll(() => rig?.cleanup());

describe.skipIf(!venv.ok)(`a DVCLive script${venv.ok ? '' : ` (skipped: ${venv.reason})`}`, () => {
  it('streams DVCLive rows while it trains; metrics.json adds only what the rows did not give', async () => {
    if (!venv.ok) return;
    rig = Rig.create({
      'train.py': SCRIPT,
      'pipelines/p.yaml': `name: py-dvclive\nstages:\n  train:\n    cmd: [${JSON.stringify(venv.python)}, train.py]\n    outs: [out/model.txt]\n    metrics: [dvclive/metrics.json]\n`,
    });
    const run = rig.spawn(['run', 'pipelines/p.yaml']);
    await until('three epochs in the run record', () => {
      const id = rig!.exists('runs') ? lastRunId(rig!) : undefined;
      return id !== undefined && recordedPoints(rig!, id).filter((p) => p.key === 'loss').length === 3;
    }, 60_000);
    const id = lastRunId(rig)!;
    expect(JSON.parse(rig.read(`runs/${id}/run.json`)).stages.train.outcome).toBe('running');
    rig.write('release', '');
    const r = await run;
    expect(r.exitCode, String(r.stdout) + String(r.stderr)).toBe(0);
    const points = recordedPoints(rig, id).map((p) => `${p.key}@${p.step ?? '-'}`).sort();
    expect(points).toEqual([
      'best@-',
      ...[0, 1, 2, 3, 4, 5].map((s) => `loss@${s}`),
      ...[0, 1, 2, 3, 4, 5].map((s) => `train/acc@${s}`),
    ].sort());
    expect(JSON.parse(rig.read(`runs/${id}/run.json`)).stages.train.metrics).toEqual({ loss: 1 / 6, 'train/acc': 0.5, best: 0.9 });
  }, 120_000);

  it('runs the DVCLive variant of examples/python-train unchanged', async () => {
    if (!venv.ok) return;
    rig?.cleanup();
    rig = Rig.create();
    cpSync(join(REPO, 'examples/python-train'), rig.path('examples/python-train'), { recursive: true });
    const r = await rig.run(['run', 'examples/python-train/dvclive.yaml', '-p', `python=${venv.python}`, '-p', 'train.epochs=3']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const points = recordedPoints(rig, lastRunId(rig)!).map((p) => `${p.key}@${p.step ?? '-'}`).sort();
    expect(points).toEqual(['train/loss@0', 'train/loss@1', 'train/loss@2', 'val/loss@0', 'val/loss@1', 'val/loss@2']);
  }, 120_000);
});
