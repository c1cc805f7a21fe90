// The remote cache against a real S3-compatible server (moto on 127.0.0.1), through the real CLI:
// push from one clone and restore in another without running, a corrupt object refused, a killed
// push leaving nothing inconsistent, the server going down mid-run.
import { chmodSync, closeSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/cache/canonical.js';
import { normalize, Rig } from '../e2e/rig.js';
import { Moto, MOTO_MISSING, requireMoto, SECRET } from './moto.js';
import { env as countEnv, executions, GRID, PIPELINE, STEP } from '../sweep/fixture.js';

const haveMoto = requireMoto();
const BUCKET = 'lab';

const SPEC = (prefix = 'cache') => `name: lab
remote: { url: s3://${BUCKET}/${prefix} }
stages:
  make:
    cmd: [sh, -c, "mkdir -p data; echo made > data/a.txt; echo make >> ran.log"]
    outs: [data/a.txt]
  many:
    cmd: [sh, -c, "mkdir -p data/many; for i in $(seq 1 40); do echo $i > data/many/f$i; done; echo many >> ran.log"]
    deps: [data/a.txt]
    outs: [data/many]
`;

/** Every file under a directory, for the "no secret anywhere" check. */
function allText(dir: string): string {
  let out = '';
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.name === 'node_modules') continue;
    if (e.isDirectory()) out += allText(p);
    else if (e.isFile() && statSync(p).size < 1 << 20) out += readFileSync(p, 'latin1');
  }
  return out;
}

describe.skipIf(!haveMoto)(`remote cache on S3 (moto)${haveMoto ? '' : ` - skipped: ${MOTO_MISSING}`}`, () => {
  let moto: Moto;
  const rigs: Rig[] = [];
  const clone = (spec = SPEC()) => { const r = Rig.create({ 'massflow.yaml': spec }); rigs.push(r); return r; };
  const cli = (rig: Rig, args: string[], env: Record<string, string> = {}) => rig.run(args, { ...moto.env(), ...env });

  beforeAll(async () => {
    moto = await Moto.start();
    await moto.bucket(BUCKET);
  }, 60_000);
  afterAll(async () => {
    await moto?.stop();
    for (const r of rigs) r.cleanup();
  });

  it('pushes from one clone; a second restores everything from the remote without running, a third pulls first', async () => {
    const a = clone();
    expect((await cli(a, ['run'])).code).toBe(0);
    const push = await cli(a, ['push']);
    expect(push.stdout).toBe('pushed 2 entries and 42 objects (3.3 kB) to s3://lab/cache; already there: 0 entries (with their objects) and 0 other objects\n');
    expect(push.code).toBe(0);
    expect((await cli(a, ['push'])).stdout).toBe('pushed 0 entries and 0 objects (0.0 kB) to s3://lab/cache; already there: 2 entries (with their objects) and 0 other objects\n');
    expect((await moto.keys(BUCKET, 'cache/entries/')).length).toBe(2);

    const b = clone();
    expect((await cli(b, ['status'])).stdout).toBe([
      'make  cached (remote)  restorable from s3://lab/cache: data/a.txt not in the workspace',
      'many  cached (remote)  restorable from s3://lab/cache: data/many not in the workspace',
      'lab: 0 fresh, 2 restorable from cache, 0 stale', ''].join('\n'));
    const run = await cli(b, ['run', '--tracking-uri', 'none']);
    expect(run.code).toBe(0);
    expect(normalize(run.stdout)).toContain('restore   make              outputs data/a.txt not in the workspace; fetched from s3://lab/cache (1 object, 5 bytes)\n');
    expect(normalize(run.stdout)).toContain('  many  restored  Ns  from remote cache: data/many\n');
    expect(normalize(run.stdout)).toContain('succeeded: 0 ran, 2 restored, 0 fresh, 0 failed, 0 skipped, 0 cancelled in Ns\n');
    expect(b.exists('ran.log')).toBe(false);
    expect(b.read('data/many/f40')).toBe('40\n');

    const c = clone();
    const pull = await cli(c, ['pull']);
    expect(pull.stdout).toBe([
      'pulled 2 entries and 42 objects (3.3 kB) from s3://lab/cache; 0 already in the local cache, 0 not on the remote',
      '`massflow run` restores them into the workspace without running them', ''].join('\n'));
    // With the remote switched off, the local cache alone now serves the run.
    const local = await cli(c, ['run', '--remote', 'none', '--tracking-uri', 'none']);
    expect(normalize(local.stdout)).toContain('succeeded: 0 ran, 2 restored, 0 fresh, 0 failed, 0 skipped, 0 cancelled in Ns\n');
    expect(c.exists('ran.log')).toBe(false);

    for (const r of [a, b, c]) expect(allText(r.dir)).not.toContain(SECRET);
    for (const out of [push, run, pull, local]) expect(out.stdout + out.stderr).not.toContain(SECRET);
  }, 180_000);

  it('refuses a corrupt object on the server, names it, and runs the stage instead', async () => {
    const a = clone(SPEC('corrupt'));
    expect((await cli(a, ['run', '--tracking-uri', 'none'])).code).toBe(0);
    expect((await cli(a, ['push'])).code).toBe(0);
    const key = `objects/${sha256('made\n').slice(0, 2)}/${sha256('made\n').slice(2)}`;
    await moto.put(BUCKET, `corrupt/${key}`, 'mad\n'); // same length, other bytes
    {
      const d = clone(SPEC('corrupt'));
      const pull = await cli(d, ['pull', 'make']);
      expect(pull.code).toBe(1);
      expect(pull.stdout).toContain(`refused s3://lab/corrupt/${key}: its content does not match its digest\n`);
      expect(pull.stdout).toContain(`not pulled make: s3://lab/corrupt/${key} is corrupt or partial: 4 bytes hashing to ${sha256('mad\n').slice(0, 12)}; refused\n`);
      const run = await cli(d, ['run', 'make', '--tracking-uri', 'none']);
      expect(run.code).toBe(0);
      expect(d.read('ran.log')).toBe('make\n');
      expect(d.read('data/a.txt')).toBe('made\n');
      expect(run.stdout).toContain(`start     make              cached result vanished; the remote's copy was not used: s3://lab/corrupt/${key} is corrupt or partial: 4 bytes hashing to ${sha256('mad\n').slice(0, 12)}; refused\n`);
    }
  }, 120_000);

  it('a large local object damaged after it was cached is refused by push, and the server stores nothing under its name', async () => {
    const g = clone(`name: damaged
remote: { url: s3://${BUCKET}/damaged }
stages:
  big:
    cmd: [sh, -c, "mkdir -p data; head -c 9000000 /dev/urandom > data/big.bin"]
    outs: [data/big.bin]
`);
    expect((await cli(g, ['run', '--tracking-uri', 'none'])).code).toBe(0);
    const digest = sha256(readFileSync(join(g.dir, 'data/big.bin')));
    const object = join(g.dir, '.massflow/cache/objects', digest.slice(0, 2), digest.slice(2));
    chmodSync(object, 0o644);
    const fd = openSync(object, 'r+');
    writeSync(fd, Buffer.from('x'), 0, 1, 8_999_999); // the last byte: all but it had left when the check fails
    closeSync(fd);
    const push = await cli(g, ['push']);
    expect(push.code).toBe(1);
    expect(push.stdout).toContain(`not pushed big: not pushed: 1 upload did not complete (local object ${digest} is damaged (its 9000000 bytes hash to ${sha256(readFileSync(object))}))\n`);
    expect(await moto.keys(BUCKET, 'damaged/')).toEqual([]);
  }, 120_000);

  it('a push killed midway leaves objects and no entry; the next push completes it (files too large to bundle, one upload each)', async () => {
    const e = clone(`name: big
remote: { url: s3://${BUCKET}/killed, jobs: 1 }
stages:
  big:
    cmd: [sh, -c, "mkdir -p data/big; for i in $(seq 1 30); do head -c 1100000 /dev/urandom > data/big/f$i; done"]
    outs: [data/big]
`);
    expect((await cli(e, ['run', '--tracking-uri', 'none'])).code).toBe(0);
    const child = e.spawn(['push'], moto.env());
    for (let i = 0; (await moto.keys(BUCKET, 'killed/objects/')).length === 0; i++) {
      if (i > 600) throw new Error('the push uploaded nothing in 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    await child;
    const uploaded = (await moto.keys(BUCKET, 'killed/objects/')).length;
    expect(uploaded).toBeLessThan(31);
    expect(await moto.keys(BUCKET, 'killed/entries/')).toEqual([]);

    const again = await cli(e, ['push']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^pushed 1 entry and ${31 - uploaded} objects \\([0-9.]+ MB\\) to s3://lab/killed; already there: 0 entries \\(with their objects\\) and ${uploaded} other objects?\\n$`));
    expect((await moto.keys(BUCKET, 'killed/objects/')).length).toBe(31);
  }, 240_000);

  it('with the server down mid-run, the run succeeds locally and says what was not pushed; push RUN sends it later', async () => {
    const f = clone(`name: down
remote: { url: s3://${BUCKET}/down, push: auto }
stages:
  slow:
    cmd: [sh, -c, "mkdir -p data; touch started; sleep 2; echo slow > data/slow.txt"]
    outs: [data/slow.txt]
`);
    const child = f.spawn(['run', '--tracking-uri', 'none'], moto.env());
    for (let i = 0; !f.exists('started'); i++) {
      if (i > 600) throw new Error('the stage did not start in 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    await moto.stop();
    const run = await child;
    expect(run.exitCode).toBe(0);
    const out = normalize(String(run.stdout));
    expect(out).toContain('succeeded: 1 ran, 0 restored, 0 fresh, 0 failed, 0 skipped, 0 cancelled in Ns\n');
    expect(out).toContain("remote: 1 of 1 entries not pushed to s3://lab/down; the run's results are in the local cache and `massflow push RUN` sends them later\n");
    expect(out).toMatch(/ {2}slow: not pushed: .*ECONNREFUSED \(s3:\/\/lab\/down unreachable\)\n/);

    await moto.up();
    await moto.bucket(BUCKET);
    const runId = readdirSync(join(f.dir, 'runs')).find((n) => /^\d{8}-/.test(n))!;
    const push = await cli(f, ['push', runId]);
    expect(push.stdout).toBe('pushed 1 entry and 1 object (0.0 kB) to s3://lab/down; already there: 0 entries (with their objects) and 0 other objects\n');
    expect(await moto.keys(BUCKET, 'down/entries/')).toHaveLength(1);
  }, 180_000);

  it('a sweep pushes what its trials ran (push: auto); the same sweep in another clone runs nothing', async () => {
    const files = {
      'pipelines/tiny.yaml': PIPELINE.replace('name: tiny\n', `name: tiny\nremote: { url: s3://${BUCKET}/sweep, push: auto }\n`),
      'step.mjs': STEP, 'count/.keep': '', 'experiments/grid.yaml': GRID,
    };
    const [a, b] = [Rig.create(files), Rig.create(files)];
    rigs.push(a, b);
    const first = await cli(a, ['sweep', 'experiments/grid.yaml', '--tracking-uri', 'none'], countEnv(a));
    expect(first.code).toBe(0);
    expect(executions(a)).toEqual({ fit: 3, prep: 1, score: 3 });
    expect(first.stdout).toMatch(/^remote: pushed 7 entries \(\d+ new objects, [0-9.]+ kB\) to s3:\/\/lab\/sweep$/m);
    const second = await cli(b, ['sweep', 'experiments/grid.yaml', '--tracking-uri', 'none'], countEnv(b));
    expect(second.code).toBe(0);
    expect(executions(b)).toEqual({});
  }, 240_000);
});
