// Two runs at once, dead lock owners, Ctrl-C, and SIGKILL at random points: the cache and the run
// records stay consistent and no stage runs twice.
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalize, Rig, writerStage } from './rig.js';

let rig: Rig;
afterEach(() => rig?.cleanup());

const SLOW = `
name: slow
stages:
  slow: { run: stages/slow.ts, outs: [slow.txt] }
  next: { run: stages/next.ts, deps: [slow.txt], outs: [next.txt] }
`;

const count = (r: Rig, id: string) => (r.exists(`count/${id}`) ? r.read(`count/${id}`).length : 0);

/** Every object's bytes hash to its name; every entry and run record names only present objects. */
function checkStore(dir: string) {
  const objects = join(dir, '.massflow/cache/objects');
  const names = new Set<string>();
  if (existsSync(objects)) {
    for (const shard of readdirSync(objects)) for (const rest of readdirSync(join(objects, shard))) {
      const name = shard + rest;
      names.add(name);
      expect(createHash('sha256').update(readFileSync(join(objects, shard, rest))).digest('hex')).toBe(name);
    }
  }
  const referenced: string[] = [];
  const entries = join(dir, '.massflow/cache/entries');
  if (existsSync(entries)) for (const shard of readdirSync(entries)) for (const f of readdirSync(join(entries, shard))) {
    if (!f.endsWith('.json')) continue;
    const e = JSON.parse(readFileSync(join(entries, shard, f), 'utf8'));
    for (const o of Object.values(e.outs) as { digest: string }[]) referenced.push(o.digest);
  }
  const runs = join(dir, 'runs');
  if (existsSync(runs)) for (const r of readdirSync(runs)) {
    const p = join(runs, r, 'run.json');
    if (!existsSync(p)) continue;
    const rec = JSON.parse(readFileSync(p, 'utf8')); // must parse: records are written atomically
    for (const s of Object.values(rec.stages) as { outputs: Record<string, { digest: string }> }[]) {
      for (const o of Object.values(s.outputs)) referenced.push(o.digest);
    }
  }
  for (const d of referenced) expect(names.has(d), `object ${d} is referenced but missing`).toBe(true);
  return { objects: names.size, referenced: referenced.length };
}

describe('concurrent and interrupted runs', () => {
  it('a second run waits on the first one\'s locks, says whom for, and reuses its result', async () => {
    // The slow stage holds its lock until the second run has said it waits (a fixed sleep lost
    // that race on a loaded machine: the second run started after the lock was gone).
    rig = Rig.create({ 'pipelines/p.yaml': SLOW, 'stages/slow.ts': writerStage({ untilFile: 'release' }), 'stages/next.ts': writerStage({ readDep: true }) });
    const first = rig.spawn(['run', 'pipelines/p.yaml', '-j', '1']);
    // Start the second once the first holds the lock on slow.txt.
    for (let i = 0; i < 300 && !(rig.exists('count/slow')); i++) await new Promise((r) => setTimeout(r, 100));
    const secondProc = rig.spawn(['run', 'pipelines/p.yaml', '-j', '1']);
    let seen = '';
    await new Promise<void>((resolve) => {
      secondProc.stdout!.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes('waiting')) resolve();
      });
      void secondProc.then(() => resolve());
    });
    writeFileSync(rig.path('release'), '');
    const [a, b] = await Promise.all([first, secondProc]);
    expect(a.exitCode).toBe(0);
    expect(b.exitCode).toBe(0);
    expect(normalize(String(b.stdout))).toMatch(/waiting {3}slow {14}lock on slow\.txt held by run RUNID \(pid P on HOST\)/);
    expect(count(rig, 'slow')).toBe(1);
    expect(count(rig, 'next')).toBe(1);
    checkStore(rig.dir);
  });

  it('takes over a lock whose owner is dead', async () => {
    rig = Rig.create({ 'pipelines/p.yaml': SLOW, 'stages/slow.ts': writerStage({}), 'stages/next.ts': writerStage({}) });
    const { LockManager } = await import('../../src/cache/locks.js');
    const lm = new LockManager(rig.path('.massflow/locks'));
    mkdirSync(rig.path('.massflow/locks'), { recursive: true });
    const { hostname } = await import('node:os');
    // pid 2^22-1 is above the default pid_max: certainly not running.
    writeFileSync(lm.lockPath('slow.txt'), JSON.stringify({ pid: 4194303, host: hostname(), procStart: '1', runId: 'dead-run', stage: 'slow', since: 'x' }));
    const r = await rig.run(['run', 'pipelines/p.yaml', '-j', '1']);
    expect(r.code).toBe(0);
    expect(count(rig, 'slow')).toBe(1);
  });

  it('Ctrl-C stops the stage, commits nothing partial, says so, and the next run completes', async () => {
    rig = Rig.create({ 'pipelines/p.yaml': SLOW, 'stages/slow.ts': writerStage({ sleepMs: 20000 }), 'stages/next.ts': writerStage({}) });
    const p = rig.spawn(['run', 'pipelines/p.yaml', '-j', '1']);
    for (let i = 0; i < 100 && !rig.exists('count/slow'); i++) await new Promise((r) => setTimeout(r, 100));
    p.kill('SIGINT');
    const r = await p;
    expect(r.exitCode).toBe(130);
    const out = normalize(String(r.stdout));
    expect(out).toContain('interrupted: stopping stages; nothing partial will be committed');
    expect(out).toContain('cancelled slow              stopped; nothing committed');
    expect(out).toContain('cancelled next              stopped; nothing committed');
    expect(out).toContain('cancelled stages committed nothing; rerun to continue from the cache');
    expect(checkStore(rig.dir).objects).toBe(0);
    const runs = readdirSync(rig.path('runs'));
    expect(JSON.parse(rig.read(`runs/${runs[0]}/run.json`)).status).toBe('cancelled');
    rig.write('stages/slow.ts', writerStage({}));
    const again = await rig.run(['run', 'pipelines/p.yaml']);
    expect(again.code).toBe(0);
  });

  it('SIGKILL at random points never leaves a corrupt store or a record pointing at nothing', async () => {
    const stages: Record<string, string> = { 'stages/w.ts': writerStage({ sleepMs: 30 }) };
    const lines = ['name: kill', 'params:', '  n: { v: 0 }', 'stages:'];
    for (let i = 0; i < 6; i++) lines.push(`  s${i}: { run: stages/w.ts, params: [n], outs: [out/s${i}.txt]${i ? `, deps: [out/s${i - 1}.txt]` : ''} }`);
    rig = Rig.create({ 'pipelines/p.yaml': lines.join('\n') + '\n', ...stages });
    // A seeded sequence of kill delays covering startup, planning, stage runs and commits.
    let seed = 12345;
    const rand = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
    const kills = 22;
    for (let i = 0; i < kills; i++) {
      const p = rig.spawn(['run', 'pipelines/p.yaml', '-j', '2', '-p', `n.v=${i % 3}`]);
      await new Promise((r) => setTimeout(r, 150 + rand() * 2500));
      p.kill('SIGKILL');
      await p;
      checkStore(rig.dir);
    }
    const final = await rig.run(['run', 'pipelines/p.yaml', '-j', '2']);
    expect(final.code).toBe(0);
    expect(rig.read('out/s5.txt')).toContain('{"n":{"v":0}}');
    const { objects, referenced } = checkStore(rig.dir);
    expect(objects).toBeGreaterThan(0);
    expect(referenced).toBeGreaterThan(0);
  }, 180_000);
});
