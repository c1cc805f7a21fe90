// A stage whose own bookkeeping throws (here: taking the locks on its outputs) fails under its own
// failure kind, naming the step, instead of claiming its outputs could not be committed.
import { afterEach, describe, expect, it } from 'vitest';
import { normalize, Rig } from './rig.js';

let rig: Rig;
afterEach(() => rig?.cleanup());

describe('bookkeeping failures', () => {
  it('a lock that cannot be taken fails the stage as a lock failure, in the view and the record', async () => {
    rig = Rig.create({
      'massflow.yaml': 'name: lk\nstages:\n  a:\n    cmd: ["sh", "-c", "echo hi > a.txt"]\n    outs: [a.txt]\n',
      // A file where the locks directory belongs: creating a lock throws.
      '.massflow/locks': '',
    });
    const r = await rig.run(['run', '--tracking-uri', 'none', '-j', '1']);
    expect(r.code).toBe(1);
    const detail = `could not lock its outputs: EEXIST: file already exists, mkdir '${rig.path('.massflow/locks')}'`;
    expect(normalize(r.stdout)).toBe([
      'massflow run RUNID · lk · 1 stages: 1 to run, 0 to restore, 0 fresh · local, jobs N',
      `FAILED    a                 Ns  ${detail}`,
      '  log: runs/RUNID/logs/a.log',
      `  a  failed  Ns  ${detail}`,
      'failed: 0 ran, 0 restored, 0 fresh, 1 failed, 0 skipped, 0 cancelled in Ns',
      'tracking: offline (runs kept under runs/, push later with `massflow sync`)',
      '',
    ].join('\n'));
    const runId = /run (\d{8}-\d{6}-[0-9a-f]{6})/.exec(r.stdout)![1]!;
    const record = JSON.parse(rig.read(`runs/${runId}/run.json`)) as { stages: Record<string, { failure: unknown }> };
    expect(record.stages['a']!.failure).toEqual({ kind: 'bookkeeping', step: 'lock', message: `EEXIST: file already exists, mkdir '${rig.path('.massflow/locks')}'` });
  });
});
