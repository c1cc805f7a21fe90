// massflow as a researcher gets it: the packed tarball installed into a temporary prefix under
// npm's default policy (no install script of massflow's runs or is needed), then used in temporary
// projects outside the clone: init + run, TS stages importing massflow/stage, a cmd: stage,
// doctor, mlflow up on the per-user virtualenv, and the paper pipeline from init --example.
// dist/ is packed as `npm test` built it (`npm pack` builds it itself through prepack; the test
// skips that second two-minute build with --ignore-scripts).
import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MLFLOW_VERSION, installedMlflowVersion } from '../../src/track/server/venv.js';
import { freePort, TEST_VENV } from '../track/helpers/server.js';
import { normalize, REPO } from './rig.js';

const work = mkdtempSync(join(tmpdir(), 'massflow-pkg-'));
const prefix = join(work, 'prefix');
const cache = join(work, 'user-cache');
const installed = join(prefix, 'lib', 'node_modules', 'massflow');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
let tarball = '';
let installOutput = '';

/** The environment of a researcher's shell: none of the npm_* variables `npm test` sets, the prefix's bin first. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'INIT_CWD') env[k] = v;
  return { ...env, PATH: `${join(prefix, 'bin')}:${process.env['PATH']}`, CI: '1', NO_COLOR: '1', MASSFLOW_CACHE_DIR: cache, ...extra };
}

async function sh(cmd: string, args: string[], cwd: string, extra: Record<string, string> = {}) {
  const r = await execa(cmd, args, { cwd, reject: false, env: userEnv(extra), extendEnv: false, all: true });
  return { code: r.exitCode ?? -1, out: String(r.stdout), all: String(r.all) };
}
const massflow = (cwd: string, ...args: string[]) => sh('massflow', args, cwd);

/** "stage -> outcome" from a run's summary lines. */
function outcomes(out: string): Record<string, string> {
  const o: Record<string, string> = {};
  for (const m of out.matchAll(/^ {2}(\S+)\s+(ran|restored|fresh|failed|skipped|cancelled)\b/gm)) o[m[1]!] = m[2]!;
  return o;
}

/** The file a `# yaml-language-server: $schema=...` first line names, resolved from the file's folder. */
function schemaOf(file: string): string {
  const m = /^# yaml-language-server: \$schema=(\S+)$/m.exec(readFileSync(file, 'utf8').split('\n')[0]!);
  if (!m) throw new Error(`${file} has no $schema comment on its first line`);
  return resolve(dirname(file), m[1]!);
}

/**
 * npx installs `--package <tarball>` into npm's cache (<cache>/_npx/<hash>/, ~400 MB) and keeps it;
 * this run's tarball path never comes back, so the install is removed with it.
 */
async function removeNpxInstall(): Promise<void> {
  if (!tarball) return;
  const npxDir = join((await sh('npm', ['config', 'get', 'cache'], REPO)).out.trim(), '_npx');
  for (const entry of existsSync(npxDir) ? readdirSync(npxDir) : []) {
    const manifest = join(npxDir, entry, 'package.json');
    if (!existsSync(manifest)) continue;
    const spec = (JSON.parse(readFileSync(manifest, 'utf8')) as { dependencies?: Record<string, string> }).dependencies?.['massflow'];
    if (spec?.startsWith('file:') && resolve(npxDir, entry, spec.slice('file:'.length)) === tarball) rmSync(join(npxDir, entry), { recursive: true, force: true });
  }
}

function project(name: string): string {
  const dir = join(work, 'projects', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('massflow installed from its tarball', () => {
  beforeAll(async () => {
    if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
    const pack = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: REPO, env: userEnv(), extendEnv: false });
    const info = (JSON.parse(pack.stdout) as { filename: string }[])[0]!;
    tarball = join(work, info.filename);
    const install = await sh('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball], work);
    if (install.code !== 0) throw new Error(`npm install -g failed:\n${install.all}`);
    installOutput = install.all;
    // The per-user cache holds the MLflow virtualenv as `massflow setup` would leave it.
    if (await installedMlflowVersion(TEST_VENV) !== MLFLOW_VERSION) {
      throw new Error(`these tests need mlflow ${MLFLOW_VERSION} in ${TEST_VENV}: run \`npm run setup\` (or set MASSFLOW_MLFLOW_VENV)`);
    }
    mkdirSync(cache, { recursive: true });
    symlinkSync(TEST_VENV, join(cache, `mlflow-${MLFLOW_VERSION}`));
  }, 300_000);
  afterAll(async () => {
    rmSync(work, { recursive: true, force: true });
    await removeNpxInstall();
  });

  it('packs what runs, not tests or benchmarks, and declares no install-time script', async () => {
    const r = await execa('tar', ['tzf', tarball]);
    const files = r.stdout.split('\n').map((f) => f.replace(/^package\//, ''));
    for (const f of ['bin/massflow.js', 'dist/cli/main.js', 'dist/stage/index.js', 'dist/stage/index.d.ts', 'dist/stage/resolve-register.js',
      'schema/pipeline.schema.json', 'schema/experiment.schema.json', 'scripts/setup-native-tf.sh', 'stages/fit-mass.ts', 'pipelines/paper.yaml', 'experiments/ablations.yaml']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => /^(src|test|bench|docs|\.ci)\//.test(f) || f.endsWith('.map'))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(Object.keys(pkg.scripts).filter((s) => /^(pre|post)?install$|^prepare$/.test(s))).toEqual([]);
    expect(pkg.scripts['prepack']).toBe('npm run build');
    // Clean: npm has nothing to fix or warn about in the manifest (not being logged in is the machine's business).
    const publish = await sh('npm', ['publish', '--dry-run', '--ignore-scripts'], REPO);
    expect(publish.code, publish.all).toBe(0);
    expect(publish.all.split('\n').filter((l) => /^npm (warn|error)/i.test(l) && !/requires you to be logged in/.test(l))).toEqual([]);
  }, 120_000);

  it('puts massflow on PATH (npm install -g) and runs through npx --package', async () => {
    // npm may hold back scripts of dependencies (it names them); none of massflow's own exists.
    expect(installOutput).not.toMatch(/install-scripts\s+massflow@/);
    expect(installOutput).not.toContain('EBADENGINE');
    const v = await massflow(work, '--version');
    expect(v).toMatchObject({ code: 0, out: VERSION });
    const npx = await sh('npx', ['--yes', '--package', tarball, 'massflow', '--version'], project('npx'));
    expect(npx.code, npx.all).toBe(0);
    expect(npx.out.trim()).toBe(VERSION);
  }, 300_000);

  it('init writes a starter project that `massflow run` runs with no argument; its $schema resolves from the file', async () => {
    const dir = project('starter');
    writeFileSync(join(dir, '.gitignore'), 'node_modules/\n');
    const init = await massflow(dir, 'init');
    expect(init).toMatchObject({ code: 0, out: 'wrote massflow.yaml\nwrote stages/hello.ts\nappended to .gitignore\n\nnext: massflow run' });
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe("node_modules/\n# massflow's state\n.massflow/\nruns/\n.mlflow/\n");
    expect(schemaOf(join(dir, 'massflow.yaml'))).toBe(join(installed, 'schema', 'pipeline.schema.json'));

    const run = await massflow(dir, 'run');
    expect(run.code, run.all).toBe(0);
    expect(normalize(run.out).split('\n').slice(-3)).toEqual([
      '  hello  ran  Ns',
      'succeeded: 1 ran, 0 restored, 0 fresh, 0 failed, 0 skipped, 0 cancelled in Ns',
      'tracking: offline (runs kept under runs/, push later with `massflow sync`)',
    ]);
    expect(readFileSync(join(dir, 'out/hello.txt'), 'utf8')).toBe('hello, world (1)\nhello, world (2)\nhello, world (3)\n');
    const again = await massflow(dir, 'init');
    expect(again).toMatchObject({ code: 2 });
    expect(again.all).toContain('massflow.yaml and stages/hello.ts already exist');
  }, 120_000);

  it('runs TS stages importing massflow/stage (as CommonJS-scope and ES module projects) and a cmd: stage', async () => {
    for (const kind of ['no package.json', 'type module'] as const) {
      const dir = project(kind === 'type module' ? 'esm' : 'plain');
      if (kind === 'type module') writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
      expect((await massflow(dir, 'init')).code).toBe(0);
      // A second TS stage with types from massflow/stage and a package the project does not have.
      writeFileSync(join(dir, 'stages/count.ts'), `
import { readFileSync, writeFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { defineStage, Type, type StageContext } from 'massflow/stage';
const Params = Type.Object({ greet: Type.Object({ who: Type.String() }) });
export default defineStage({
  params: Params,
  run(ctx: StageContext<{ greet: { who: string } }>) {
    const lines = readFileSync(ctx.deps[0]!, 'utf8').split('\\n').filter(Boolean).length;
    writeFileSync(ctx.outDir, JSON.stringify({ lines, valid: Value.Check(Params, ctx.params) }) + '\\n');
  },
});
`);
      writeFileSync(join(dir, 'massflow.yaml'), readFileSync(join(dir, 'massflow.yaml'), 'utf8') + `  count:
    run: stages/count.ts
    params: [greet]
    deps: [out/hello.txt]
    outs: [out/count.json]
  copy:
    cmd: [cp, out/count.json, out/copy.json]
    deps: [out/count.json]
    outs: [out/copy.json]
`);
      const run = await massflow(dir, 'run');
      expect(run.code, run.all).toBe(0);
      expect(outcomes(run.out), kind).toEqual({ hello: 'ran', count: 'ran', copy: 'ran' });
      expect(readFileSync(join(dir, 'out/copy.json'), 'utf8'), kind).toBe('{"lines":3,"valid":true}\n');
      const again = await massflow(dir, 'run');
      expect(outcomes(again.out), kind).toEqual({ hello: 'fresh', count: 'fresh', copy: 'fresh' });
    }
  }, 180_000);

  it('doctor says what is there, what is missing, what that costs and the command that adds it', async () => {
    const r = await massflow(project('doctor'), 'doctor');
    expect(r.code, r.all).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe(`        massflow        ${VERSION} at ${installed}, Node ${process.version}; per-user cache ${cache}`);
    expect(lines).toContain('ok      tensor backend  stages use wasm (tfjs-backend-wasm 4.22.0 simd, training kernels v1)');
    // npm's default policy installs no native addon: the native backend is one `massflow setup` away.
    const native = lines.findIndex((l) => /^missing +native +fast: ~3\.5x wasm on CPU/.test(l));
    expect(native, r.out).toBeGreaterThan(0);
    expect(lines.slice(native + 1, native + 3).map((l) => l.trim())).toEqual(['without it: training runs on wasm, ~3.5x slower', 'add it: massflow setup --native']);
    expect(lines).toContain(`ok      MLflow          mlflow ${MLFLOW_VERSION} in ${join(cache, `mlflow-${MLFLOW_VERSION}`)} (per-user, shared by projects); start it with \`massflow mlflow up\``);
    for (const name of ['Slurm', 'S3 credentials', 'GPUs']) expect(lines.some((l) => new RegExp(`^(ok|missing) +${name} `).test(l)), name).toBe(true);
    expect(lines).toContain('        cache writes    objects are not fsynced one by one; after a crash of the machine the first command checks what was written since (MASSFLOW_CACHE_FSYNC=1 fsyncs each)');
  }, 60_000);

  it('mlflow up starts the server from the per-user virtualenv, and a run tracks there', async () => {
    const dir = project('tracked');
    expect((await massflow(dir, 'init')).code).toBe(0);
    const port = await freePort();
    try {
      const up = await massflow(dir, 'mlflow', 'up', '--port', String(port));
      expect(up.code, up.all).toBe(0);
      expect(up.out.split('\n')[1]).toMatch(new RegExp(`^MLflow ${MLFLOW_VERSION.replace(/\./g, '\\.')} is up at http://127\\.0\\.0\\.1:${port} \\(pid \\d+\\); runs in this project now track there$`));
      const run = await massflow(dir, 'run');
      expect(run.code, run.all).toBe(0);
      expect(run.out).toContain(`http://127.0.0.1:${port}`);
      expect(run.out).not.toContain('tracking: offline');
    } finally {
      const down = await massflow(dir, 'mlflow', 'down');
      expect(down.out).toMatch(/^stopped the MLflow server \(pid \d+\)$/m);
    }
  }, 180_000);

  it('init --example cluster-mass writes the paper pipeline into a new folder, where it runs (profile `seconds`)', async () => {
    const parent = project('examples');
    const init = await massflow(parent, 'init', '--example', 'cluster-mass', 'cm');
    expect(init.code, init.all).toBe(0);
    const dir = join(parent, 'cm');
    expect(schemaOf(join(dir, 'pipelines/paper.yaml'))).toBe(join(installed, 'schema', 'pipeline.schema.json'));
    expect(schemaOf(join(dir, 'experiments/ablations.yaml'))).toBe(join(installed, 'schema', 'experiment.schema.json'));
    expect(readFileSync(join(dir, 'stages/fit-mass.ts'), 'utf8')).not.toContain('../src/');
    const notEmpty = await massflow(parent, 'init', '--example', 'cluster-mass', 'cm');
    expect(notEmpty.code).toBe(2);
    expect(notEmpty.all).toContain('is not empty');

    const run = await massflow(dir, 'run', 'pipelines/paper.yaml', '--profile', 'seconds', '--tracking-uri', 'none');
    expect(run.code, run.all).toBe(0);
    expect(outcomes(run.out)).toEqual(Object.fromEntries(
      ['sim-sky', 'make-cutouts', 'pretrain-bands', 'extract-features', 'pretrain-richness',
        ...['paper', 'pretext', 'hybrid'].flatMap((v) => [0, 1].map((f) => `fit-mass@variant=${v},fold=${f}`)), 'cross-validate', 'explain'].map((s) => [s, 'ran'])));
    const summary = JSON.parse(readFileSync(join(dir, 'reports/cv/summary.json'), 'utf8')) as { perFold: unknown[] };
    expect(summary.perFold).toHaveLength(2);
    expect(run.out).toContain('backend: wasm');
  }, 600_000);
});
