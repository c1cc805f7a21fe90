// Stage params a stage's own schema rejects stop the run (or the sweep) before anything starts,
// located at the value in the spec, at the profile entry that set it, or naming the override; exit 2.
import { afterEach, describe, expect, it } from 'vitest';
import { DEFINE_URL, Rig, writerStage } from './rig.js';

const TRAIN = `
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Type } from '@sinclair/typebox';
import { defineStage } from '${DEFINE_URL}';
// Output at import time must neither reach the user nor garble the pre-flight's answer.
console.log('train module loaded');
export default defineStage({
  params: Type.Object({ train: Type.Object({ epochs: Type.Integer({ minimum: 1 }), mode: Type.Union([Type.Literal('fast'), Type.Literal('slow')]) }) }),
  async run(ctx) {
    mkdirSync(dirname(ctx.outDir), { recursive: true });
    writeFileSync(ctx.outDir, JSON.stringify(ctx.params));
  },
});
`;

const PIPE = [
  'name: pre',
  'params:',
  '  train: { epochs: 3, mode: fast }',
  'profiles:',
  '  long: { train.epochs: 0 }',
  'stages:',
  '  prepare:',
  '    run: stages/prepare.ts',
  '    outs: [data/prepared.txt]',
  '  train:',
  '    run: stages/train.ts',
  '    deps: [data/prepared.txt]',
  '    params: [train]',
  '    outs: [models/m.json]',
  '',
].join('\n');

let rig: Rig;
afterEach(() => rig?.cleanup());

const create = () => Rig.create({ 'pipelines/p.yaml': PIPE, 'stages/prepare.ts': writerStage({ text: 'prepared' }), 'stages/train.ts': TRAIN });
const nothingRan = (r: Rig) => {
  expect(r.exists('count/prepare')).toBe(false);
  expect(r.exists('runs')).toBe(false);
};

describe('stage param pre-flight', () => {
  it('names the -p override a stage rejects, before the upstream stage runs', async () => {
    rig = create();
    const r = await rig.run(['run', 'pipelines/p.yaml', '-p', 'train.epochs=three', '--tracking-uri', 'none']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe([
      "error: stage 'train' rejects param 'train.epochs': expected integer (set by -p train.epochs=three)",
      "  pipelines/p.yaml:13:13 note: stage 'train' declares its params here",
      '    13 |     params: [train]',
      '       |             ~~~~~~~',
      '1 error',
      '',
    ].join('\n'));
    nothingRan(rig);
  });

  it('points at the value in the spec, and lists a literal union\'s choices', async () => {
    rig = create();
    rig.write('pipelines/p.yaml', PIPE.replace('mode: fast', 'mode: quick'));
    const r = await rig.run(['run', 'pipelines/p.yaml', '--tracking-uri', 'none']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').slice(0, 3)).toEqual([
      "pipelines/p.yaml:3:29 error: stage 'train' rejects param 'train.mode': expected one of \"fast\", \"slow\"",
      '  3 |   train: { epochs: 3, mode: quick }',
      '    |                             ~~~~~',
    ]);
    nothingRan(rig);
  });

  it('points at the profile entry that set the value', async () => {
    rig = create();
    const r = await rig.run(['run', 'pipelines/p.yaml', '--profile', 'long', '--tracking-uri', 'none']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').slice(0, 3)).toEqual([
      "pipelines/p.yaml:5:25 error: stage 'train' rejects param 'train.epochs': expected integer to be greater or equal to 1 (set by profile 'long')",
      '  5 |   long: { train.epochs: 0 }',
      '    |                         ~',
    ]);
    nothingRan(rig);
  });

  it('lets valid params through, and does not check stages that will not run', async () => {
    rig = create();
    const ok = await rig.run(['run', 'pipelines/p.yaml', '--tracking-uri', 'none']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(rig.read('models/m.json'))).toEqual({ train: { epochs: 3, mode: 'fast' } });
    // Only `prepare` is selected: train's bad override is not its concern.
    const sel = await rig.run(['run', 'pipelines/p.yaml', 'prepare', '-f', '-p', 'train.epochs=0', '--tracking-uri', 'none']);
    expect(sel.code).toBe(0);
  });
});

describe('sweep param pre-flight', () => {
  it('names the trials and the experiment value a stage rejects, before any trial runs', async () => {
    rig = create();
    rig.write('experiments/grid.yaml', 'pipeline: pipelines/p.yaml\nsweep:\n  grid:\n    train.epochs: [2, 0, 3]\n');
    for (const args of [['--dry-run'], []]) {
      const r = await rig.run(['sweep', 'experiments/grid.yaml', ...args, '--tracking-uri', 'none']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n').slice(0, 2)).toEqual([
        "error: trial t001: stage 'train' rejects param 'train.epochs': expected integer to be greater or equal to 1 (set by train.epochs=0 in experiments/grid.yaml)",
        "  pipelines/p.yaml:13:13 note: stage 'train' declares its params here",
      ]);
      nothingRan(rig);
    }
    // A -p on the sweep command is named as such, and a value every trial shares lists them all.
    rig.write('experiments/grid.yaml', 'pipeline: pipelines/p.yaml\nsweep:\n  grid:\n    train.epochs: [2, 3]\n');
    const r = await rig.run(['sweep', 'experiments/grid.yaml', '-p', 'train.mode=turbo', '--tracking-uri', 'none']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe("error: trial t000: stage 'train' rejects param 'train.mode': expected one of \"fast\", \"slow\" (set by -p train.mode=turbo)");
    expect(r.stderr).toContain("error: trial t001: stage 'train' rejects param 'train.mode'");
    nothingRan(rig);
  });
});
