// `--backend` on the command line: it overrides MASSFLOW_BACKEND for the fingerprints, the run
// record and the stage processes, and a name that is not a backend is a usage error.
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFINE_URL, Rig } from './rig.js';

const PIPE = `
name: flag
stages:
  probe:
    run: stages/probe.ts
    outs: [data/backend.txt]
`;

const PROBE = `
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { defineStage } from '${DEFINE_URL}';
export default defineStage({
  async run(ctx) {
    mkdirSync(dirname(ctx.outDir), { recursive: true });
    writeFileSync(ctx.outDir, ctx.backend + ' | ' + process.env.MASSFLOW_BACKEND + '\\n');
  },
});
`;

let rig: Rig;
afterEach(() => rig?.cleanup());

describe('massflow --backend', () => {
  it('overrides the environment for the stages, the record and the fingerprints', async () => {
    rig = Rig.create({ 'pipelines/p.yaml': PIPE, 'stages/probe.ts': PROBE });
    // The rig's environment says cpu; the flag says wasm.
    const r = await rig.run(['run', 'pipelines/p.yaml', '--backend', 'wasm', '--tracking-uri', 'none']);
    expect(r.code).toBe(0);
    const [ctxBackend, envBackend] = rig.read('data/backend.txt').trim().split(' | ');
    expect(ctxBackend).toMatch(/^wasm@tfjs-backend-wasm \d+\.\d+\.\d+ simd, training kernels v\d+$/);
    expect(envBackend).toBe(ctxBackend);
    const [runId] = readdirSync(rig.path('runs'));
    const record = JSON.parse(readFileSync(rig.path(`runs/${runId}/run.json`), 'utf8')) as { backend: { name: string } };
    expect(record.backend.name).toBe('wasm');

    const same = await rig.run(['status', 'pipelines/p.yaml', '--backend', 'wasm']);
    expect(same.stdout).toMatch(/^probe +fresh +up to date$/m);
    const other = await rig.run(['status', 'pipelines/p.yaml']);
    expect(other.stdout).toMatch(/^probe +stale +backend: wasm@.* -> cpu@tfjs /m);
  });

  it('rejects a name that is not a backend, listing the choices', async () => {
    rig = Rig.create({ 'pipelines/p.yaml': PIPE, 'stages/probe.ts': PROBE });
    const r = await rig.run(['run', 'pipelines/p.yaml', '--backend', 'tpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("argument 'tpu' is invalid. Allowed choices are native-gpu, native, wasm, cpu, auto.");
    expect(rig.exists('data/backend.txt')).toBe(false);
  });
});
