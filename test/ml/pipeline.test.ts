// The ML half of the paper pipeline (pipelines/paper.ml-fragment.yaml, scaled down) through the
// real CLI: everything runs once; a rerun finds every stage fresh; with the outputs deleted every
// stage is restored from the cache, none retrained; a changed explain param reruns only explain;
// a band subset for network 2 reruns everything after network 1; an unknown band is one clear line.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBackend } from '../../src/ml/backend.js';
import { writeSyntheticCutouts } from './synthetic.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(REPO, 'bin', 'massflow.js');
const backend = describeBackend();
let dir: string;

/** The fragment with tiny sizes: 1 epoch of network 1, 2 folds, 16 IG steps. */
function tinyPipeline(): string {
  const s = readFileSync(join(REPO, 'pipelines/paper.ml-fragment.yaml'), 'utf8');
  const tiny = s
    .replace(/pretrain: \{ epochs: \d+/, 'pretrain: { epochs: 1')
    .replace(/width: \d+, featureChannels: \d+/, 'width: 4, featureChannels: 4')
    .replace(/fit: \{ epochs: \d+/, 'fit: { epochs: 3')
    .replace(/cv: \{ folds: \d+/, 'cv: { folds: 2')
    .replace(/clusters: \d+, steps: \d+/, 'clusters: 1, steps: 16');
  if (tiny === s) throw new Error('the fragment no longer has the expected params');
  return `name: ml-tiny\n${tiny}`;
}

async function massflow(...args: string[]) {
  const r = await execa(process.execPath, [BIN, ...args], {
    cwd: dir, reject: false, env: { CI: '1', NO_COLOR: '1', MASSFLOW_BACKEND: backend.ok ? backend.value.name : 'wasm' },
  });
  return { code: r.exitCode, out: `${r.stdout}\n${r.stderr}` };
}

/** outcome per stage from the summary lines ("  fit-mass@fold=0   restored  ..."). */
function outcomes(out: string): Record<string, string> {
  const o: Record<string, string> = {};
  for (const m of out.matchAll(/^ {2}(\S+)\s+(ran|restored|fresh|failed|skipped|cancelled)\b/gm)) o[m[1]!] = m[2]!;
  return o;
}

const STAGES = ['pretrain-bands', 'extract-features', 'fit-mass@fold=0', 'fit-mass@fold=1', 'cross-validate', 'explain'];

describe('ML pipeline through the CLI', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'massflow-ml-pipeline-'));
    for (const p of ['node_modules', 'src', 'stages']) symlinkSync(join(REPO, p), join(dir, p));
    cpSync(join(REPO, 'package.json'), join(dir, 'package.json'));
    mkdirSync(join(dir, 'pipelines'));
    writeFileSync(join(dir, 'pipelines/ml.yaml'), tinyPipeline());
    writeSyntheticCutouts(join(dir, 'data/cutouts'), { count: 30, size: 16, seed: 3 });
    mkdirSync(join(dir, 'data/sky'));
    writeFileSync(join(dir, 'data/sky/floor.json'), JSON.stringify({ maeFloorDex: 0.05 }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every stage, then finds them fresh, then restores them all from the cache', async () => {
    const first = await massflow('run', 'pipelines/ml.yaml');
    expect(first.code, first.out).toBe(0);
    expect(outcomes(first.out)).toEqual(Object.fromEntries(STAGES.map((s) => [s, 'ran'])));
    const summary = JSON.parse(readFileSync(join(dir, 'reports/cv/summary.json'), 'utf8'));
    expect(summary.perFold).toHaveLength(2);
    expect(summary.floor).toBe(0.05);

    const again = await massflow('run', 'pipelines/ml.yaml');
    expect(again.code, again.out).toBe(0);
    expect(outcomes(again.out)).toEqual(Object.fromEntries(STAGES.map((s) => [s, 'fresh'])));

    for (const p of ['models', 'reports', 'data/features']) rmSync(join(dir, p), { recursive: true });
    const restored = await massflow('run', 'pipelines/ml.yaml');
    expect(restored.code, restored.out).toBe(0);
    expect(outcomes(restored.out)).toEqual(Object.fromEntries(STAGES.map((s) => [s, 'restored'])));
    expect(JSON.parse(readFileSync(join(dir, 'reports/cv/summary.json'), 'utf8'))).toEqual(summary);
  }, 240_000);

  it('reruns only explain when only its params change', async () => {
    const r = await massflow('run', 'pipelines/ml.yaml', '-p', 'explain.steps=8');
    expect(r.code, r.out).toBe(0);
    const o = outcomes(r.out);
    expect(o['explain']).toBe('ran');
    for (const s of STAGES.filter((x) => x !== 'explain')) expect(o[s], s).toBe('fresh');
  }, 120_000);

  it('with features.bands [r] reruns from extract-features on, network 1 untouched', async () => {
    const r = await massflow('run', 'pipelines/ml.yaml', '-p', 'features.bands=[r]');
    expect(r.code, r.out).toBe(0);
    expect(outcomes(r.out)).toEqual({ ...Object.fromEntries(STAGES.map((s) => [s, 'ran'])), 'pretrain-bands': 'fresh' });
    const index = JSON.parse(readFileSync(join(dir, 'data/features/index.json'), 'utf8'));
    expect([index.bands, index.channels]).toEqual([['r'], 4]);
    const a = JSON.parse(readFileSync(join(dir, 'reports/explain/attributions.json'), 'utf8'));
    for (const c of a.clusters) expect(Object.keys(c.bandTotals)).toEqual(['r']);
  }, 120_000);

  it('an unknown band in features.bands fails extract-features with one line, no stack trace', async () => {
    const r = await massflow('run', 'pipelines/ml.yaml', '-p', 'features.bands=[r, q]');
    expect(r.code).toBe(1);
    const message = "extract-features: unknown band 'q' in features.bands; the cutouts have u, g, r, i, z";
    expect(r.out).toMatch(new RegExp(`^ {2}extract-features\\s+failed\\s+\\S+\\s+${message}$`, 'm'));
    expect(r.out).toContain(`  | ${message}\n`);
    expect(r.out).not.toMatch(/^ {2}\| +at /m);
    expect(outcomes(r.out)['fit-mass@fold=0']).toBe('skipped');
  }, 120_000);
});
