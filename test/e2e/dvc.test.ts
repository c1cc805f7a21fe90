// A DVC project driven through the CLI: found by default, the notice for ignored fields, `-p` on
// params.yaml, a located error, `import`. (The oracle comparison with real DVC is test/dvc/.)
import { afterAll, describe, expect, it } from 'vitest';
import { Rig } from './rig.js';

const DVC_YAML = `stages:
  greet:
    desc: says hello
    cmd: echo "\${greeting} \${times}" > hello.txt
    params: [greeting, times]
    outs: [hello.txt]
  shout:
    cmd: tr a-z A-Z < hello.txt > loud.txt
    deps: [hello.txt]
    outs: [loud.txt]
`;
const PARAMS = 'greeting: hi # how to greet\ntimes: 1.0\n';

describe('massflow on a DVC project', () => {
  const rig = Rig.create({ 'dvc.yaml': DVC_YAML, 'params.yaml': PARAMS });
  afterAll(() => rig.cleanup());

  it('runs dvc.yaml by default, noting the ignored field once, then has nothing to do', async () => {
    const r = await rig.run(['run', '--tracking-uri', 'none', '-j', '1']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('dvc.yaml:3:5 warning: ignored (massflow has no use for them): desc\n  3 |     desc: says hello\n    |     ~~~~\n');
    expect(rig.read('loud.txt')).toBe('HI 1.0\n');
    const again = await rig.run(['status']);
    expect(again.stdout).toContain('greet  fresh  up to date\nshout  fresh  up to date\n');
  });

  it('-p sets a params.yaml value for the run and puts the file back', async () => {
    const r = await rig.run(['run', '-p', 'greeting=hey', '--tracking-uri', 'none']);
    expect(r.code).toBe(0);
    expect(rig.read('loud.txt')).toBe('HEY 1.0\n');
    expect(rig.read('params.yaml')).toBe(PARAMS);
    const status = await rig.run(['status']);
    // The first run's result is still in the cache, as in DVC's run cache.
    expect(status.stdout).toContain('greet  cached  restorable: hello.txt not in the workspace');
  });

  it('import writes the massflow pipeline, which runs', async () => {
    const r = await rig.run(['import', 'dvc.yaml', '-o', 'pipelines/hello.yaml']);
    expect(r.code).toBe(0);
    expect(rig.read('pipelines/hello.yaml')).toContain('  greet:\n    description: says hello\n    cmd: echo "hi 1.0" > hello.txt\n');
    expect((await rig.run(['import', 'dvc.yaml', '-o', 'pipelines/hello.yaml'])).code).toBe(2);
    const run = await rig.run(['run', 'pipelines/hello.yaml', '--tracking-uri', 'none']);
    expect(run.code).toBe(0);
  });

  it('a stage massflow cannot honour is a located error, exit 2', async () => {
    rig.write('dvc.yaml', DVC_YAML.replace('deps: [hello.txt]', 'deps: [hello.txt, "https://example.org/x.csv"]'));
    const r = await rig.run(['run', 'dvc.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("dvc.yaml:9:23 error: 'https://example.org/x.csv' is not a local path");
  });
});
