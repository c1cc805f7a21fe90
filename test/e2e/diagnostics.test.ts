// Every spec error at once, each located with the source line underlined; exit 2, no stack trace.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, Rig } from './rig.js';

let rig: Rig;
afterEach(() => rig?.cleanup());

describe('spec diagnostics', () => {
  it('reports schema, reference, path, duplicate-out and interpolation errors together', async () => {
    rig = Rig.create({
      'stages/s.ts': 'export default 1;\n',
      'pipelines/bad.yaml': [
        'name: bad',
        'params:',
        '  fit: { lr: 0.1 }',
        'stages:',
        '  a:',
        '    run: stages/s.ts',
        '    outs: [out/x]',
        '    depz: [y]',
        '  b:',
        '    run: stages/s.ts',
        '    needs: [trian]',
        '    params: [fit.lrr]',
        '    outs: [out/x]',
        '  c:',
        '    cmd: [echo, "${fit.nope}"]',
        '    outs: [../escape]',
        '  d:',
        '    outs: [d.txt]',
        '',
      ].join('\n'),
    });
    const r = await rig.run(['run', 'pipelines/bad.yaml']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    // Independent mistakes all at once: an unknown key leaves the rest of stage 'a' checkable.
    expect(r.stderr).toBe([
      "pipelines/bad.yaml:8:5 error: unknown key 'depz' in 'stages.a'",
      '  8 |     depz: [y]',
      '    |     ~~~~',
      "pipelines/bad.yaml:11:13 error: unknown stage 'trian' in needs of 'b'",
      '  11 |     needs: [trian]',
      '     |             ~~~~~',
      "pipelines/bad.yaml:12:14 error: unknown param 'fit.lrr' in stage 'b' (did you mean 'fit.lr'?)",
      '  12 |     params: [fit.lrr]',
      '     |              ~~~~~~~',
      "pipelines/bad.yaml:13:12 error: 'out/x' is written by both 'a' and 'b'",
      '  13 |     outs: [out/x]',
      '     |            ~~~~~',
      "  pipelines/bad.yaml:7:12 note: 'a' writes 'out/x' here",
      '    7 |     outs: [out/x]',
      '      |            ~~~~~',
      "pipelines/bad.yaml:15:20 error: unknown param 'fit.nope'",
      '  15 |     cmd: [echo, "${fit.nope}"]',
      '     |                    ~~~~~~~~',
      "pipelines/bad.yaml:16:12 error: outs path '../escape' must be relative and stay inside the project",
      '  16 |     outs: [../escape]',
      '     |            ~~~~~~~~~',
      "pipelines/bad.yaml:17:3 error: stage 'd' needs exactly one of 'run' (a TS module) or 'cmd' (a program and its arguments, or a shell command string)",
      '  17 |   d:',
      '     |   ~',
      "7 errors; not checked until fixed: the TS stages' params against their schemas",
      '',
    ].join('\n'));
    // A stage whose value has the wrong shape is not checked further, and the summary says so.
    rig.write('pipelines/bad.yaml', rig.read('pipelines/bad.yaml').replace('    depz: [y]\n', '    deps: y\n'));
    const r2 = await rig.run(['status', 'pipelines/bad.yaml']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain([
      "pipelines/bad.yaml:8:11 error: 'stages.a.deps': expected array",
      '  8 |     deps: y',
      '    |           ~',
      "pipelines/bad.yaml:11:13 error: unknown stage 'trian' in needs of 'b'",
    ].join('\n'));
    expect(r2.stderr).toContain("\n6 errors; not checked until fixed: stage 'a' beyond its schema errors\n");
  });

  it('names every stage on a cycle', async () => {
    rig = Rig.create({
      'stages/s.ts': 'export default 1;\n',
      'pipelines/cyc.yaml': [
        'name: cyc',
        'stages:',
        '  a: { run: stages/s.ts, deps: [c.txt], outs: [a.txt] }',
        '  b: { run: stages/s.ts, deps: [a.txt], outs: [b.txt] }',
        '  c: { run: stages/s.ts, needs: [b], outs: [c.txt] }',
        '',
      ].join('\n'),
    });
    const r = await rig.run(['run', 'pipelines/cyc.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe([
      'pipelines/cyc.yaml:3:3 error: cycle: a -> b -> c -> a',
      '  3 |   a: { run: stages/s.ts, deps: [c.txt], outs: [a.txt] }',
      '    |   ~',
      "  pipelines/cyc.yaml:4:3 note: 'b' is on the cycle",
      '    4 |   b: { run: stages/s.ts, deps: [a.txt], outs: [b.txt] }',
      '      |   ~',
      "  pipelines/cyc.yaml:5:3 note: 'c' is on the cycle",
      '    5 |   c: { run: stages/s.ts, needs: [b], outs: [c.txt] }',
      '      |   ~',
      "1 error; not checked until fixed: the TS stages' params against their schemas",
      '',
    ].join('\n'));
  });

  it('locates YAML syntax errors and bad interpolations', async () => {
    rig = Rig.create({ 'pipelines/syn.yaml': 'name: syn\nstages:\n  a: { cmd: [echo, x\n' });
    const r = await rig.run(['run', 'pipelines/syn.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^pipelines\/syn\.yaml:\d+:\d+ error: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    rig.write('pipelines/i.yaml', 'name: i\nparams: { n: 2 }\nstages:\n  a:\n    foreach: { k: "${range(n}" }\n    cmd: [echo]\n');
    const i = await rig.run(['run', 'pipelines/i.yaml']);
    expect(i.code).toBe(2);
    expect(i.stderr).toContain('pipelines/i.yaml:5:');
    expect(i.stderr).toContain("error: expected ',' or ')'");
    const missing = await rig.run(['run', 'pipelines/none.yaml']);
    expect(missing.stderr).toBe("error: cannot read pipeline file 'pipelines/none.yaml'\n1 error\n");
  });

  it('says what a memory size looks like, as editors do from the published schema', async () => {
    rig = Rig.create({
      'massflow.yaml': 'name: m\nstages:\n  a:\n    cmd: [echo]\n    resources: { memory: 2 gigabytes }\n',
    });
    const r = await rig.run(['status']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe([
      "massflow.yaml:5:26 error: 'stages.a.resources.memory': expected bytes or a size such as 2GiB or 512MB: digits, then B, KB, MB, GB, TB or KiB, MiB, GiB, TiB",
      '  5 |     resources: { memory: 2 gigabytes }',
      '    |                          ~~~~~~~~~~~',
      "1 error; not checked until fixed: stage 'a' beyond its schema errors",
      '',
    ].join('\n'));
    // yaml-language-server reports the first anyOf branch's problem and reads patternErrorMessage;
    // a stage's exactly-one-of run/cmd is a oneOf the editor checks (the CLI has its own message).
    const schema = JSON.parse(readFileSync(join(REPO, 'schema/pipeline.schema.json'), 'utf8'));
    const stage = schema.properties.stages.patternProperties['^(.*)$'];
    expect(stage.oneOf).toEqual([{ required: ['run'] }, { required: ['cmd'] }]);
    const memory = stage.properties.resources.properties.memory;
    expect(memory.anyOf[0]).toMatchObject({ type: 'string', patternErrorMessage: memory.errorMessage });
    expect(memory.errorMessage).toContain('a size such as 2GiB or 512MB');
  });
});
