// A Python `cmd:` stage as a Slurm job: what it logs through the helper reaches the runner (the run
// record, hence MLflow) while the job still runs, through the events file on the shared filesystem.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rig } from '../e2e/rig.js';
import { lastRunId, recordedPoints } from '../python/python-env.js';
import { FAST, requireSlurm, until } from './cluster.js';

const SCRIPT = `
import os, time, massflow as mf
for i in range(5):
    mf.log_metric("loss", 1.0 / (i + 1), step=i)
    mf.progress(i + 1, 10)
t = time.time()
while not os.path.exists("release"):
    if time.time() - t > 60:
        raise SystemExit("never released")
    time.sleep(0.05)
open("out.txt", "w").write("done")
`;

let rig: Rig | undefined;
beforeAll(() => requireSlurm());
afterAll(() => rig?.cleanup());

describe('a Python stage on Slurm', () => {
  it('streams its metrics while the job runs', async () => {
    rig = Rig.create({ 'train.py': SCRIPT, 'pipelines/p.yaml': 'name: py-slurm\nstages:\n  train: { cmd: [python3, train.py], outs: [out.txt] }\n' });
    const run = rig.spawn(['run', 'pipelines/p.yaml', '--executor', 'slurm'], FAST);
    // The points and the progress reach the record in separate writes: wait for both.
    await until('five points and the progress in the run record', () => {
      const id = rig!.exists('runs') ? lastRunId(rig!) : undefined;
      if (id === undefined || recordedPoints(rig!, id).length !== 5 || !rig!.exists(`runs/${id}/run.json`)) return false;
      try {
        return JSON.parse(rig!.read(`runs/${id}/run.json`)).stages?.train?.progress?.done === 5;
      } catch {
        return false; // caught between writes
      }
    }, 60_000);
    const id = lastRunId(rig)!;
    // The job is still running (it waits for the release file), and the record already has them.
    const record = JSON.parse(rig.read(`runs/${id}/run.json`));
    expect(record.stages.train.outcome).toBe('running');
    expect(record.stages.train.progress).toEqual({ done: 5, total: 10 });
    expect(rig.exists('out.txt')).toBe(false);
    rig.write('release', '');
    const r = await run;
    expect(r.exitCode, String(r.stdout) + String(r.stderr)).toBe(0);
    expect(recordedPoints(rig, id).map((p) => `${p.key}@${p.step}`)).toEqual([0, 1, 2, 3, 4].map((s) => `loss@${s}`));
  }, 120_000);
});
