// Malformed pipelines and experiments (test/corpus/): `massflow check` on each exits 2 with exactly
// the diagnostics in the file's `.expected` neighbour, located file:line:col, and no stack trace.
// MASSFLOW_UPDATE_CORPUS=1 writes the `.expected` files instead (read each diff before committing).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, Rig } from './rig.js';

const CORPUS = join(REPO, 'test/corpus');
const cases = ['pipelines', 'experiments'].flatMap((dir) =>
  readdirSync(join(CORPUS, dir)).filter((f) => f.endsWith('.yaml')).sort().map((f) => `${dir}/${f}`));

// What the malformed files refer to: a stage module, and the pipelines the experiments name.
const FIXTURE = {
  'stages/s.ts': 'export default 1;\n',
  'pipelines/base.yaml': 'params:\n  fit: { lr: 0.1 }\nstages:\n  fit: { cmd: [touch, m.txt], params: [fit], outs: [m.txt] }\n',
  'pipelines/broken-base.yaml': 'params:\n  fit: { lr: 0.1 }\nstages:\n  fit: { cmd: [touch, m.txt], params: [fit.l], outs: [m.txt] }\n',
};

let rig: Rig;
const results = new Map<string, { code: number; stdout: string; stderr: string }>();

beforeAll(async () => {
  rig = Rig.create(FIXTURE);
  for (const c of cases) rig.write(c, readFileSync(join(CORPUS, c), 'utf8'));
  // A few at a time: each is a separate process.
  const queue = [...cases];
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let c = queue.shift(); c; c = queue.shift()) results.set(c, await rig.run(['check', c]));
  }));
}, 300_000);
afterAll(() => rig?.cleanup());

describe('the malformed corpus', () => {
  it('holds at least 30 files', () => expect(cases.length).toBeGreaterThanOrEqual(30));

  it.each(cases)('%s', (c) => {
    const r = results.get(c)!;
    const expectedFile = join(CORPUS, c.replace(/\.yaml$/, '.expected'));
    if (process.env['MASSFLOW_UPDATE_CORPUS']) writeFileSync(expectedFile, r.stderr);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
    expect(r.stderr.split('\n')[0]).toMatch(/^(pipelines|experiments)\/[^:]+\.yaml:\d+:\d+ error: /);
    expect(r.stderr).toBe(readFileSync(expectedFile, 'utf8'));
  });
});
