// Where an Optuna study lives, through the real CLI: a PostgreSQL server (started here, on
// 127.0.0.1 in a temp dir) holds a sweep's study that Optuna itself then reads; and a storage that
// cannot be opened, or a sampler missing its package, is a located error before anything runs,
// never a hang or a traceback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SweepRecord } from '../../src/sweep/record.js';
import type { CliResult, Rig } from '../e2e/rig.js';
import { sweepIds } from './fixture.js';
import { IN_CI, optunaCli, studyTrials } from './optuna-env.js';
import { experiment, optunaRig } from './optuna-fixture.js';
import { freePort, pgProblem, startPostgres, type PgServer } from './postgres-server.js';

const { ok, python, env } = optunaCli();
const noPg = pgProblem();
if (noPg && IN_CI) throw new Error(noPg);

const space = (storage: string, sampler = 'random') => experiment(`sampler: ${sampler}
seed: 1
trials: 3
${storage ? `storage: ${storage}\n` : ''}params:
  fit.x: { uniform: [0, 1] }`, 'overrides: { fit.epochs: 2 }\n');

let rig: Rig;
afterAll(() => rig?.cleanup());

describe.skipIf(!ok)('Optuna study storage', () => {
  describe.skipIf(Boolean(noPg))('on PostgreSQL', () => {
    let pg: PgServer | undefined;
    beforeAll(async () => { if (noPg) console.warn(`skipping: ${noPg}`); else pg = await startPostgres(); }, 60_000);
    afterAll(() => pg?.stop());

    it('holds the sweep\'s study, which Optuna reads back', async () => {
      rig = optunaRig({ 'pg.yaml': space(pg!.url) });
      const r = await rig.run(['sweep', 'experiments/pg.yaml', '-j', '1', '--tracking-uri', 'none'], env(rig));
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('3 trials succeeded, 0 failed, 0 cancelled');
      const sweep = JSON.parse(rig.read(`runs/${sweepIds(rig)[0]}/sweep.json`)) as SweepRecord;
      const stored = studyTrials(python, pg!.url, 'pg');
      expect(stored.map((t) => [t.state, t.params, t.value])).toEqual(sweep.trials.map((t) => ['COMPLETE', t.point, t.objective]));
    }, 60_000);
  });

  it('a storage that cannot be opened, or gp without PyTorch, is a located error before anything runs', async () => {
    const port = await freePort();
    rig = optunaRig({
      'refused.yaml': space(`postgresql://massflow:s3cret@127.0.0.1:${port}/db`),
      'scheme.yaml': space('nosuch://somewhere/db'),
      'gp.yaml': space('', 'gp'),
    });
    const [refused, scheme, gp] = (await Promise.all(['refused', 'scheme', 'gp'].map((e) => rig.run(['sweep', `experiments/${e}.yaml`, '--tracking-uri', 'none'], env(rig))))) as [CliResult, CliResult, CliResult];
    expect(refused.code).toBe(2);
    // Nothing but the located error: no traceback, and the password is not in it.
    expect(refused.stderr).toMatch(new RegExp(`^experiments/refused\\.yaml:7:14 error: cannot open the study's storage postgresql://massflow:\\*\\*\\*@127\\.0\\.0\\.1:${port}/db: \\(psycopg\\.OperationalError\\) connection failed: connection to server at "127\\.0\\.0\\.1", port ${port} failed: Connection refused\n  7 \\|     storage: postgresql://`));
    expect(refused.stderr + refused.stdout).not.toContain('s3cret');
    expect(refused.stderr).not.toMatch(/Traceback|\n\s+at /);

    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toMatch(/^experiments\/scheme\.yaml:7:14 error: cannot open the study's storage nosuch:\/\/somewhere\/db: Can't load plugin: sqlalchemy\.dialects:nosuch\n/);

    expect(gp.code).toBe(2);
    expect(gp.stderr).toMatch(/^experiments\/gp\.yaml:4:14 error: sampler 'gp' needs PyTorch, which the virtualenv \S+ does not hold: add it with `\S+python\S* -m pip install torch`, or choose another sampler \(tpe\)\n/);
    // Refused before any stage ran.
    expect(rig.exists('count/prep')).toBe(false);
  }, 60_000);
});
