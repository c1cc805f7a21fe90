// A small sweep through Slurm: stages that trials share run as one job, each trial's own stages
// as their own jobs, and a repeated sweep submits nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rig } from '../e2e/rig.js';
import { FAST, jobsIn, requireSlurm, SLURM_UP_MS, smokeRig } from './cluster.js';

let rig: Rig;
beforeAll(async () => { await requireSlurm(); rig = smokeRig(); }, SLURM_UP_MS);
afterAll(() => rig?.cleanup());

const EXPERIMENT = `
pipeline: pipelines/smoke.yaml
overrides:
  fit.epochs: 30
  cv.folds: 2
sweep:
  grid:
    fit.lr: [0.01, 0.03]
objective: { metric: report/mae_mean, direction: min }
`;

/** Jobs run in the sweep's trial workspaces (under .massflow/sweeps/), counted by job name. */
function jobNames(): Record<string, number> {
  const byName: Record<string, number> = {};
  for (const j of jobsIn(rig.dir, true)) byName[j.name] = (byName[j.name] ?? 0) + 1;
  return byName;
}

describe('a sweep on Slurm', () => {
  it('runs shared stages once and each trial\'s own stages as separate jobs', async () => {
    rig.write('experiments/lr.yaml', EXPERIMENT);
    const r = await rig.run(['sweep', 'experiments/lr.yaml', '--executor', 'slurm', '--tracking-uri', 'none'], FAST);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('2 trials succeeded, 0 failed, 0 cancelled; stages: 8 ran, 0 cached');
    expect(jobNames()).toEqual({
      'massflow:generate': 1, 'massflow:stats': 1,
      'massflow:fit@fold=0': 2, 'massflow:fit@fold=1': 2, 'massflow:report': 2,
    });

    const again = await rig.run(['sweep', 'experiments/lr.yaml', '--executor', 'slurm', '--tracking-uri', 'none'], FAST);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('stages: 0 ran, 8 cached');
    expect(Object.values(jobNames()).reduce((a, b) => a + b, 0)).toBe(8);
  }, 90_000);
});
