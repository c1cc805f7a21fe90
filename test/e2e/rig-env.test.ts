// The rig starts the CLI from an empty environment plus PATH, HOME and TMPDIR: what the shell
// running the tests exports cannot change the output the end-to-end tests assert exactly.
import { afterEach, describe, expect, it } from 'vitest';
import { normalize, Rig } from './rig.js';

let rig: Rig;
const LEAKS = { MLFLOW_TRACKING_URI: 'http://127.0.0.1:9', MASSFLOW_BACKEND: 'no-such-backend', MASSFLOW_GPUS: '7', NO_COLOR: '', FORCE_COLOR: '1' };
afterEach(() => {
  for (const name of Object.keys(LEAKS)) delete process.env[name];
  rig?.cleanup();
});

describe('the e2e rig', () => {
  it('passes none of the test process\'s MLFLOW_* and MASSFLOW_* variables to the CLI', async () => {
    Object.assign(process.env, LEAKS);
    rig = Rig.create({
      'massflow.yaml': 'name: env\nstages:\n  a:\n    cmd: ["sh", "-c", "echo $MLFLOW_TRACKING_URI,$MASSFLOW_GPUS > a.txt"]\n    outs: [a.txt]\n',
    });
    const r = await rig.run(['run', '-j', '1']);
    expect(r.stderr).toBe('');
    expect(normalize(r.stdout)).toBe([
      'massflow run RUNID · env · 1 stages: 1 to run, 0 to restore, 0 fresh · local, jobs N',
      'start     a                 never run',
      'ran       a                 Ns',
      '  a  ran  Ns',
      'succeeded: 1 ran, 0 restored, 0 fresh, 0 failed, 0 skipped, 0 cancelled in Ns',
      'tracking: offline (runs kept under runs/, push later with `massflow sync`)',
      '',
    ].join('\n'));
    expect(rig.read('a.txt')).toBe(',\n');
    expect(r.code).toBe(0);
  });
});
