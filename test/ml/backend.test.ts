// Backend selection: the env override, the cheap description the runner fingerprints, and the
// refusal to switch backends once one is active.
import { describe, expect, it } from 'vitest';
import { BACKEND_ENV, describeBackend, loadBackend, requestedBackend } from '../../src/ml/backend.js';

describe('backend selection', () => {
  it('rejects an unknown MASSFLOW_BACKEND with the valid names', () => {
    const r = requestedBackend({ [BACKEND_ENV]: 'tpu' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/native-gpu, native, wasm, cpu/);
    const d = describeBackend({ [BACKEND_ENV]: 'tpu' });
    expect(d.ok).toBe(false);
  });

  it('accepts the name@version label the runner records', () => {
    expect(requestedBackend({ [BACKEND_ENV]: 'wasm@4.22.0' })).toEqual({ ok: true, value: 'wasm' });
  });

  it('describes an explicit backend without loading it', () => {
    const d = describeBackend({ [BACKEND_ENV]: 'wasm' });
    expect(d).toEqual({ ok: true, value: { name: 'wasm', version: expect.stringMatching(/^tfjs-backend-wasm 4\.\d+\.\d+ simd, training kernels v\d+$/) } });
  });

  it('picks the first available of native-gpu, native, wasm when nothing is requested', () => {
    const d = describeBackend({});
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    const native = describeBackend({ [BACKEND_ENV]: 'native' });
    const gpu = describeBackend({ [BACKEND_ENV]: 'native-gpu' });
    const expected = gpu.ok ? 'native-gpu' : native.ok ? 'native' : 'wasm';
    expect(d.value.name).toBe(expected);
    if (native.ok) expect(native.value.version).toMatch(/^tfjs-node \d+\.\d+\.\d+, TensorFlow /);
    else expect(native.error).toMatch(/MASSFLOW_BACKEND=native but @tensorflow\/tfjs-node/);
  });

  it('loads the requested backend once and refuses to switch', async () => {
    const b = await loadBackend({ [BACKEND_ENV]: 'cpu' });
    expect(b.name).toBe('cpu');
    expect(b.tf.getBackend()).toBe('cpu');
    expect(await loadBackend({ [BACKEND_ENV]: 'cpu' })).toBe(b);
    await expect(loadBackend({ [BACKEND_ENV]: 'wasm' })).rejects.toThrow(/already active.*cannot switch to wasm/);
  });
});
