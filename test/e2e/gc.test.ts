// `massflow gc` keeps what the current state and recent runs reference, and removes the rest.
import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { Rig, writerStage } from './rig.js';

let rig: Rig;
afterEach(() => rig?.cleanup());

const countFiles = (dir: string): number => readdirSync(dir, { withFileTypes: true, recursive: true }).filter((d) => d.isFile()).length;

describe('massflow gc', () => {
  it('removes entries and objects only older runs referenced; the current state stays fresh', async () => {
    rig = Rig.create({ 'pipelines/p.yaml': 'name: g\nparams: { a: { v: 1 } }\nstages:\n  s: { run: stages/s.ts, params: [a], outs: [out.txt] }\n', 'stages/s.ts': writerStage({}) });
    for (const v of [1, 2, 3]) expect((await rig.run(['run', 'pipelines/p.yaml', '-p', `a.v=${v}`])).code).toBe(0);
    expect(countFiles(rig.path('.massflow/cache/entries'))).toBe(3);
    const dry = await rig.run(['gc', '--keep-runs', '1', '--min-age', '0', '--dry-run']);
    expect(dry.stdout).toMatch(/^would remove 2 cache entries and 2 objects \(\d+B\); kept 1 entries/);
    expect(countFiles(rig.path('.massflow/cache/entries'))).toBe(3);
    const gc = await rig.run(['gc', '--keep-runs', '1', '--min-age', '0']);
    expect(gc.code).toBe(0);
    expect(gc.stdout).toMatch(/^removed 2 cache entries and 2 objects/);
    expect(countFiles(rig.path('.massflow/cache/entries'))).toBe(1);
    expect(countFiles(rig.path('.massflow/cache/objects'))).toBe(1);
    const st = await rig.run(['status', 'pipelines/p.yaml', '-p', 'a.v=3']);
    expect(st.stdout).toContain('s  fresh  up to date');
    const old = await rig.run(['status', 'pipelines/p.yaml', '-p', 'a.v=1']);
    expect(old.stdout).toContain('s  stale');
  });

  it('removes the compiled pipelines of a spec text that changed, and keeps the current one', async () => {
    rig = Rig.create({ 'pipelines/p.yaml': 'name: g\nstages:\n  s: { run: stages/s.ts, outs: [out.txt] }\n', 'stages/s.ts': writerStage({}) });
    expect((await rig.run(['status', 'pipelines/p.yaml'])).code).toBe(0);
    rig.write('pipelines/p.yaml', 'name: g2\nstages:\n  s: { run: stages/s.ts, outs: [out.txt] }\n');
    expect((await rig.run(['status', 'pipelines/p.yaml'])).code).toBe(0);
    expect(countFiles(rig.path('.massflow/state/compiled'))).toBe(2);
    const gc = await rig.run(['gc']);
    expect(gc.code).toBe(0);
    expect(gc.stdout.split('\n')[1]).toMatch(/^removed 1 compiled pipeline no command can use again \(\d+(\.\d)?(B|KiB): spec changed or gone, or another massflow build\)$/);
    expect(countFiles(rig.path('.massflow/state/compiled'))).toBe(1);
    const again = await rig.run(['gc']);
    expect(again.stdout).not.toContain('compiled pipeline');
    expect((await rig.run(['status', 'pipelines/p.yaml'])).stdout).toContain('g2: 0 fresh');
  });
});
