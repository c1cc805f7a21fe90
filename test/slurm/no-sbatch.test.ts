// Without the Slurm client programs on PATH a Slurm run stops before anything runs, with a message
// saying what is missing and what to do, exit 2 and no stack trace. Needs no cluster.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, symlinkSync } from 'node:fs';
import { Rig, writerStage } from '../e2e/rig.js';

let rig: Rig;
afterEach(() => rig?.cleanup());

/** A PATH with node on it and nothing else. */
function nodeOnlyPath(r: Rig): string {
  const bin = r.path('.bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, `${bin}/node`);
  return bin;
}

describe('no sbatch on PATH', () => {
  for (const [how, spec, args] of [
    ['--executor slurm', 'name: p\nstages:\n  a: { run: stages/a.ts, outs: [a.txt] }\n', ['--executor', 'slurm']],
    ['executor: slurm in the spec', 'name: p\nexecutor: slurm\nstages:\n  a: { run: stages/a.ts, outs: [a.txt] }\n', []],
  ] as const) {
    it(`says so clearly (${how})`, async () => {
      rig = Rig.create({ 'pipelines/p.yaml': spec, 'stages/a.ts': writerStage({}) });
      const r = await rig.run(['run', 'pipelines/p.yaml', ...args], { PATH: nodeOnlyPath(rig) });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        'error: the slurm executor needs the Slurm client programs, and sbatch, squeue, scancel, scontrol are not on PATH. ' +
        'Run massflow on a login node of the cluster (or load its slurm module), or use --executor local.\n',
      );
      expect(rig.exists('runs')).toBe(false);
      expect(rig.exists('count/a')).toBe(false);
    });
  }

  it('the local executor still runs with that PATH', async () => {
    rig = Rig.create({ 'pipelines/p.yaml': 'name: p\nstages:\n  a: { run: stages/a.ts, outs: [a.txt] }\n', 'stages/a.ts': writerStage({}) });
    const r = await rig.run(['run', 'pipelines/p.yaml', '--executor', 'local'], { PATH: nodeOnlyPath(rig) });
    expect(r.code, r.stderr).toBe(0);
    expect(rig.read('a.txt')).toBe('out{}\n');
  });
});
