// The tensor backend: which TensorFlow.js backend runs the models, chosen once per process.
//
// Order when nothing is requested: tfjs-node-gpu, tfjs-node (native TensorFlow), then wasm (SIMD)
// with the two training kernels it lacks (./wasm-kernels.ts). The pure-JS `cpu` backend is only
// used when asked for (it is ~400x slower than wasm; tests use it as the numerical reference).
// `MASSFLOW_BACKEND=native-gpu|native|wasm|cpu` forces one; a forced backend that cannot load is an
// error, never a silent fallback, because the runner has already put its name in the fingerprint.
//
// describeBackend() answers "which backend, which version" from package files only, without loading
// TensorFlow (0.5 s for the native library), because the runner fingerprints every stage with it.
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from './wasm-kernels.js';
import { shimLegacyUtil } from './node-util-shim.js';
import { registerNativeKernels } from './native-kernels.js';

export { BACKEND_NAMES, BACKEND_ENV, describeBackend, requestedBackend, type BackendName, type BackendInfo, type BackendResult } from './backend-describe.js';
import { BACKEND_ENV, BACKEND_NAMES, NATIVE_PACKAGE, describeBackend, probe, requestedBackend, type BackendInfo, type BackendName, type BackendResult } from './backend-describe.js';

export interface LoadedBackend extends BackendInfo {
  /** The tfjs namespace, with this backend active. */
  readonly tf: typeof tf;
}

/** The tfjs backend id each of our names maps to. */
const TFJS_BACKEND_ID: Record<BackendName, string> = {
  'native-gpu': 'tensorflow',
  native: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};


let active: LoadedBackend | undefined;

async function activate(info: BackendInfo): Promise<LoadedBackend> {
  if (info.name === 'native' || info.name === 'native-gpu') {
    // TensorFlow's C++ info logs are noise in stage logs (the two lines absl prints before its
    // logging is initialised still appear on stderr; no environment variable silences them).
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
    // Importing the package registers the 'tensorflow' backend on the shared tfjs engine.
    shimLegacyUtil();
    await import(NATIVE_PACKAGE[info.name]);
    registerNativeKernels();
  } else if (info.name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    // Before the backend initialises, so the replaced kernel keeps its wasm setup.
    registerWasmTrainingKernels();
  }
  const id = TFJS_BACKEND_ID[info.name];
  if (!(await tf.setBackend(id))) throw new Error(`tfjs could not initialise the '${id}' backend`);
  await tf.ready();
  if (info.name === 'wasm' && !tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) {
    throw new Error('this Node has no WebAssembly SIMD; the wasm backend would be unusably slow');
  }
  return { ...info, tf };
}

/**
 * Loads and activates the backend, once per process. Switching to another backend afterwards is
 * refused: weights built on one backend silently got all-zero gradients on another.
 */
export async function loadBackend(env: NodeJS.ProcessEnv = process.env): Promise<LoadedBackend> {
  const req = requestedBackend(env);
  if (!req.ok) throw new Error(req.error);
  if (active) {
    if (req.value && req.value !== active.name) {
      throw new Error(`the ${active.name} backend is already active in this process; cannot switch to ${req.value}`);
    }
    return active;
  }
  if (req.value) {
    const p = probe(req.value);
    if (!p.ok) throw new Error(`${BACKEND_ENV}=${req.value} but ${p.error}`);
    try {
      active = await activate(p.value);
    } catch (e) {
      throw new Error(`${BACKEND_ENV}=${req.value} but it failed to load: ${(e as Error).message}`);
    }
    return active;
  }
  const failures: string[] = [];
  for (const name of ['native-gpu', 'native', 'wasm'] as const) {
    const p = probe(name);
    if (!p.ok) {
      failures.push(`${name}: ${p.error}`);
      continue;
    }
    try {
      active = await activate(p.value);
      return active;
    } catch (e) {
      // Installed but unloadable (e.g. tfjs-node-gpu without CUDA): try the next one. Only reachable
      // without MASSFLOW_BACKEND, i.e. outside the runner, which always passes the name it recorded.
      failures.push(`${name}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`no tensor backend could be loaded (${failures.join('; ')})`);
}

/**
 * For a stage: the backend the runner selected (`ctx.backend`, a name or `name@version` label)
 * wins over the environment; anything else (empty, 'auto') leaves the environment as it is.
 */
function stageEnv(ctxBackend: string | undefined): NodeJS.ProcessEnv {
  const name = ctxBackend?.split('@')[0];
  const env = { ...process.env };
  if (name && (BACKEND_NAMES as readonly string[]).includes(name)) env[BACKEND_ENV] = name;
  return env;
}

export const loadBackendForStage = (ctxBackend: string | undefined): Promise<LoadedBackend> => loadBackend(stageEnv(ctxBackend));

export const describeBackendForStage = (ctxBackend: string | undefined): BackendResult<BackendInfo> =>
  describeBackend(stageEnv(ctxBackend));

/** The backend loaded in this process, if any. */
export function activeBackend(): LoadedBackend | undefined {
  return active;
}
