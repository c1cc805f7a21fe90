// `massflow run dvc.yaml` against the real `dvc repro` on the fixture projects: the same files and
// the same stages executed after every step. CI installs DVC (.ci/run), so there it must be present.
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES } from './fixtures.js';
import { DVC_VERSION, DvcServer, ensureDvc, Pair } from './oracle.js';

const dvc = ensureDvc();
if (!dvc.ok && process.env['CI']) throw new Error(`DVC ${DVC_VERSION} is required in CI: ${dvc.message}`);

describe.skipIf(!dvc.ok)(`massflow run dvc.yaml matches dvc repro ${DVC_VERSION}${dvc.ok ? '' : ` (skipped: ${dvc.message})`}`, () => {
  const pairs: Pair[] = [];
  const server = dvc.ok ? new DvcServer(dvc.bin) : undefined;
  afterAll(() => {
    server?.close();
    for (const p of pairs) p.cleanup();
  });

  for (const fx of FIXTURES) {
    it(fx.name, async () => {
      const pair = new Pair(server!, fx.files);
      pairs.push(pair);
      for (const step of fx.steps) {
        if (step.edit) pair.edit(step.edit);
        const [d, m] = await Promise.all([pair.dvc(), pair.massflow()]);
        const where = `${fx.name}, after '${step.what}'`;
        expect(d.code, `dvc repro failed (${where}):\n${d.log}`).toBe(0);
        expect(m.code, `massflow run failed (${where}):\n${m.log}`).toBe(0);
        expect({ step: step.what, executed: m.executed }, where).toEqual({ step: step.what, executed: d.executed });
        expect({ step: step.what, executed: d.executed }, `the fixture's expectation (${where})`).toEqual({ step: step.what, executed: step.executed });
        expect(m.files, `workspace files (${where})`).toEqual(d.files);
      }
    // Each step runs the real DVC beside massflow.
    }, 600_000);
  }
});
