// Pipelines a new user writes: the shapes DVC and Snakemake users write are accepted, a run never
// hangs on its own lock, and hostile input is answered at once with a located error.
import { describe, expect, it, afterEach } from 'vitest';
import { normalize, Rig } from './rig.js';

let rig: Rig;
afterEach(() => rig?.cleanup());

describe('first-try pipelines', () => {
  it('runs a stage that lists one file in both outs and metrics (it waited forever on its own lock)', async () => {
    rig = Rig.create({
      'pipelines/m.yaml': 'stages:\n  train:\n    cmd: [sh, -c, \'echo "{\\"acc\\": 0.5}" > m.json\']\n    outs: [m.json]\n    metrics: [m.json]\n',
    });
    const r = await rig.run(['run', 'pipelines/m.yaml']);
    expect(normalize(r.stdout)).toContain('succeeded: 1 ran, 0 restored, 0 fresh, 0 failed');
    expect(r.stdout).not.toContain('waiting');
    expect(r.code).toBe(0);
    expect(rig.read('m.json')).toBe('{"acc": 0.5}\n');
    expect((await rig.run(['run', 'pipelines/m.yaml'])).stdout).toContain('0 ran, 0 restored, 1 fresh');
  }, 60_000);

  it('names a pipeline after its file, passes argv scalars as written, and runs a cmd string through sh', async () => {
    rig = Rig.create({
      'pipelines/paper.yaml': [
        'params:',
        '  fit: { lr: 1.0e-3, note: "x; y" }',
        'stages:',
        '  argv:',
        '    cmd: [sh, -c, \'echo "$@" > argv.txt\', sh, --epochs, 10, --lr, 1.0e-3, true, 0x1F, ".5"]',
        '    outs: [argv.txt]',
        '  shell:',
        '    cmd: "cat argv.txt > shell.txt && echo lr=${fit.lr} note=${fit.note} >> shell.txt"',
        '    params: [fit]',
        '    deps: [argv.txt]',
        '    outs: [shell.txt]',
        '',
      ].join('\n'),
    });
    const r = await rig.run(['run', 'pipelines/paper.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(normalize(r.stdout).split('\n')[0]).toMatch(/^massflow run RUNID · paper · 2 stages/);
    expect(rig.read('argv.txt')).toBe('--epochs 10 --lr 1.0e-3 true 0x1F .5\n');
    expect(rig.read('shell.txt')).toBe('--epochs 10 --lr 1.0e-3 true 0x1F .5\nlr=0.001 note=x; y\n');
    // A name: still wins.
    rig.write('pipelines/paper.yaml', `name: cluster-mass\n${rig.read('pipelines/paper.yaml')}`);
    expect(normalize((await rig.run(['status', 'pipelines/paper.yaml'])).stdout)).toContain('cluster-mass: ');
  }, 60_000);

  it('quotes interpolated values in a cmd string: a param cannot inject shell syntax', async () => {
    rig = Rig.create({
      'victim/keep.txt': 'kept\n',
      'pipelines/inj.yaml': [
        'params:',
        '  semi: "; rm -rf victim"',
        '  subst: "$(touch pwned-subst)"',
        '  tick: "`touch pwned-tick`"',
        '  quote: "it\'s \\"quoted\\""',
        'stages:',
        '  s:',
        '    cmd: printf \'[%s]\' ${semi} ${subst} ${tick} "in double ${quote}" \'in single ${quote}\' > out.txt',
        '    params: [semi, subst, tick, quote]',
        '    outs: [out.txt]',
        '',
      ].join('\n'),
    });
    const r = await rig.run(['run', 'pipelines/inj.yaml']);
    expect(r.code).toBe(0);
    expect(rig.read('out.txt')).toBe('[; rm -rf victim][$(touch pwned-subst)][`touch pwned-tick`][in double it\'s "quoted"][in single it\'s "quoted"]');
    expect(rig.read('victim/keep.txt')).toBe('kept\n');
    expect(rig.exists('pwned-subst') || rig.exists('pwned-tick')).toBe(false);
  }, 60_000);

  it('reports independent mistakes in one run: an escaping out, an unknown needs, two writers of one file', async () => {
    rig = Rig.create({
      'pipelines/p.yaml': [
        'stages:',
        '  prep: { cmd: [touch, ../data.csv], outs: [../data.csv] }',
        '  train: { cmd: [touch, model.bin], needs: [prepp], outs: [model.bin] }',
        '  eval: { cmd: [touch, model.bin], outs: [model.bin] }',
        '',
      ].join('\n'),
    });
    for (const cmd of ['run', 'check']) {
      const r = await rig.run([cmd, 'pipelines/p.yaml']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe([
        "pipelines/p.yaml:2:45 error: outs path '../data.csv' must be relative and stay inside the project",
        '  2 |   prep: { cmd: [touch, ../data.csv], outs: [../data.csv] }',
        '    |                                             ~~~~~~~~~~~',
        "pipelines/p.yaml:3:45 error: unknown stage 'prepp' in needs of 'train'",
        '  3 |   train: { cmd: [touch, model.bin], needs: [prepp], outs: [model.bin] }',
        '    |                                             ~~~~~',
        "pipelines/p.yaml:4:43 error: 'model.bin' is written by both 'train' and 'eval'",
        '  4 |   eval: { cmd: [touch, model.bin], outs: [model.bin] }',
        '    |                                           ~~~~~~~~~',
        "  pipelines/p.yaml:3:60 note: 'train' writes 'model.bin' here",
        '    3 |   train: { cmd: [touch, model.bin], needs: [prepp], outs: [model.bin] }',
        '      |                                                            ~~~~~~~~~',
        '3 errors',
        '',
      ].join('\n'));
    }
  }, 60_000);

  it('answers a 50 MB pipeline file at once, with a located error', async () => {
    const line = '  key: "a value long enough to make the file large quickly, repeated"\n';
    rig = Rig.create({ 'pipelines/big.yaml': `stages:\n  a: { cmd: [echo] }\nparams:\n${line.repeat(Math.ceil(50e6 / line.length))}  broken: [\n` });
    const started = Date.now();
    const r = await rig.run(['check', 'pipelines/big.yaml']);
    const seconds = (Date.now() - started) / 1000;
    expect(r.code).toBe(2);
    expect(r.stderr).toBe([
      'pipelines/big.yaml:1:1 error: the file is 47.7 MiB; a spec file may be at most 1 MiB (keep data in files the stages list in deps)',
      '  1 | stages:',
      '    | ~',
      '1 error; not checked until fixed: everything else in the file (it must parse first)',
      '',
    ].join('\n'));
    // Generous for a loaded machine; it took minutes and 1.1 GB before.
    expect(seconds).toBeLessThan(20);
  }, 60_000);

  it('check --json gives the diagnostics as data, and a clean file exits 0', async () => {
    rig = Rig.create({
      'pipelines/ok.yaml': 'stages:\n  a: { cmd: [touch, a.txt], outs: [a.txt] }\n',
      'pipelines/bad.yaml': 'stages:\n  a: { cmd: [touch, a.txt], outs: [a.txt] }\n  b: { cmd: [touch, a.txt], outs: [a.txt], needs: [b] }\n',
    });
    const ok = await rig.run(['check', 'pipelines/ok.yaml']);
    expect(ok).toEqual({ code: 0, stdout: 'pipelines/ok.yaml: ok (1 stage)\n', stderr: '' });
    const r = await rig.run(['check', '--json', 'pipelines/ok.yaml', 'pipelines/bad.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      ok: false,
      files: ['pipelines/ok.yaml', 'pipelines/bad.yaml'],
      diagnostics: [
        {
          severity: 'error', code: 'duplicate-out', message: "'a.txt' is written by both 'a' and 'b'",
          location: { file: 'pipelines/bad.yaml', line: 3, column: 36, end: { line: 3, column: 41 } },
          related: [{ message: "'a' writes 'a.txt' here", location: { file: 'pipelines/bad.yaml', line: 2, column: 36, end: { line: 2, column: 41 } } }],
        },
        {
          severity: 'error', code: 'needs-self', message: "stage 'b' needs itself: a stage runs after the ones it needs",
          location: { file: 'pipelines/bad.yaml', line: 3, column: 52, end: { line: 3, column: 53 } }, related: [],
        },
      ],
      skipped: [],
    });
  }, 60_000);
});
