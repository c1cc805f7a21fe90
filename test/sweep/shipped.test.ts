// The experiment files shipped in experiments/ validate against the pipelines they name, and their
// plans share what they should: the lr/batch sweep trains only network 2 per trial, each ablation
// recomputes exactly from the stage it changes, each beyond-paper variant reuses the fold models.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { asRunId } from '../../src/core/brand.js';
import { openProject } from '../../src/project/open.js';
import { projectLayout } from '../../src/project/layout.js';
import { fileExistsIn, loadExperiment } from '../../src/sweep/load.js';
import { memberRole, planSweep, type SweepPlan } from '../../src/sweep/plan.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
// The repository's sources, with state kept in a temp dir: nothing of the checkout's cache is read or written.
const state = mkdtempSync(join(tmpdir(), 'massflow-shipped-'));
afterAll(() => rmSync(state, { recursive: true, force: true }));
const layout = { ...projectLayout(REPO), massflowDir: state, cacheDir: join(state, 'cache'), statDir: join(state, 'stat'), fingerprintsDir: join(state, 'fp'), locksDir: join(state, 'locks'), runsDir: join(state, 'runs') };

async function plan(file: string): Promise<SweepPlan> {
  const loaded = loadExperiment(REPO, file, []);
  if (!loaded.ok) throw new Error(loaded.diagnostics.map((d) => d.message).join('\n'));
  expect(loaded.warnings.map((w) => w.message)).toEqual([]);
  const r = await planSweep(openProject(layout), loaded.experiment, asRunId('20260101-000000-000000'), { force: false, fileExists: fileExistsIn(REPO) });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.plan;
}

/** Per trial: the stages it runs itself (not shared with an earlier trial). */
const own = (p: SweepPlan) => Object.fromEntries(p.trials.map((t) => [t.trial.name, t.pipeline.stages.filter((s) => memberRole(t, s.id).kind === 'run').map((s) => s.name)]));
const unique = (xs: string[]) => [...new Set(xs)];

describe('shipped experiments', () => {
  it('every file in experiments/ validates and plans', async () => {
    const files = readdirSync(join(REPO, 'experiments')).filter((f) => f.endsWith('.yaml'));
    expect(files.sort()).toEqual(['ablations.yaml', 'beyond-paper.yaml', 'fit-lr-batch.yaml', 'paper-rerun.yaml', 'smoke-lr.yaml']);
    for (const f of files) expect((await plan(`experiments/${f}`)).trials.length).toBeGreaterThan(0);
  });

  it('the lr x batch sweep computes the sky, cutouts, network 1 and features once', async () => {
    const p = await plan('experiments/fit-lr-batch.yaml');
    expect(p.trials).toHaveLength(9);
    const runs = own(p);
    expect(unique(runs['t000']!)).toEqual(['sim-sky', 'make-cutouts', 'pretrain-bands', 'extract-features', 'pretrain-richness', 'fit-mass', 'cross-validate']);
    for (const t of Object.keys(runs).slice(1)) expect(unique(runs[t]!)).toEqual(['fit-mass', 'cross-validate']);
    expect(p.trials.every((t) => !t.pipeline.stages.some((s) => s.name === 'explain'))).toBe(true);
  });

  it('each ablation recomputes from the stage it changes and shares everything before it', async () => {
    const p = await plan('experiments/ablations.yaml');
    const runs = own(p);
    expect(Object.keys(runs)).toEqual(['baseline', 'no-pretrain', 'fixed-angle', 'ten-folds', 'r-band-only']);
    expect(unique(runs['no-pretrain']!)).toEqual(['pretrain-bands', 'extract-features', 'pretrain-richness', 'fit-mass', 'cross-validate']);
    expect(unique(runs['fixed-angle']!)).toEqual(['make-cutouts', 'pretrain-bands', 'extract-features', 'pretrain-richness', 'fit-mass', 'cross-validate']);
    // Ten folds for each of the three network-2 variants.
    expect(runs['ten-folds']).toEqual([...Array.from({ length: 30 }, () => 'fit-mass'), 'cross-validate']);
    // Network 1 stays the baseline's (trained on all five bands); only the features narrow to r.
    expect(unique(runs['r-band-only']!)).toEqual(['extract-features', 'pretrain-richness', 'fit-mass', 'cross-validate']);
    const rOnly = p.trials.find((t) => t.trial.name === 'r-band-only')!;
    for (const name of ['sim-sky', 'make-cutouts', 'pretrain-bands']) {
      const s = rOnly.pipeline.stages.find((x) => x.name === name)!;
      expect(memberRole(rOnly, s.id), name).toEqual({ kind: 'share', owner: 'baseline' });
    }
    expect(rOnly.pipeline.params['features']).toEqual({ bands: ['r'] });
    const switched = p.trials[1]!.pipeline.stages.find((s) => s.name === 'pretrain-bands')!;
    expect(switched.impl).toEqual({ kind: 'ts', module: 'experiments/stages/untrained-bands.ts' });
  });

  it('each beyond-paper variant is scored from the baseline\'s fold models: only cross-validate runs again', async () => {
    const runs = own(await plan('experiments/beyond-paper.yaml'));
    expect(Object.keys(runs)).toEqual(['baseline', 'paper', 'pretext', 'hybrid']);
    expect(unique(runs['baseline']!)).toEqual(['sim-sky', 'make-cutouts', 'pretrain-bands', 'extract-features', 'pretrain-richness', 'fit-mass', 'cross-validate']);
    for (const v of ['paper', 'pretext', 'hybrid']) expect(runs[v], v).toEqual(['cross-validate']);
  });

  it('the paper rerun applies the full profile and keeps every stage', async () => {
    const p = await plan('experiments/paper-rerun.yaml');
    const t = p.trials[0]!;
    expect(t.pipeline.params['sim']).toMatchObject({ clusters: 26298, labelled: 523, cellMpc: 1 });
    expect(t.pipeline.params['cutout']).toMatchObject({ size: 128, sizeMpc: 1 });
    expect(t.pipeline.params['fit']).toMatchObject({ epochs: 200 });
    expect(t.pipeline.stages.map((s) => s.name)).toContain('explain');
  });
});
