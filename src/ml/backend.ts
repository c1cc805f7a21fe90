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
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { WASM_KERNELS_VERSION, registerWasmTrainingKernels } from './wasm-kernels.js';

export const BACKEND_NAMES = ['native-gpu', 'native', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export const BACKEND_ENV = 'MASSFLOW_BACKEND';

export interface BackendInfo {
  readonly name: BackendName;
  /** Everything that changes the numbers: package versions, the TensorFlow library, our kernels. */
  readonly version: string;
}

export type BackendResult<T> = { ok: true; value: T } | { ok: false; error: string };

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

const NATIVE_PACKAGE: Record<'native-gpu' | 'native', string> = {
  'native-gpu': '@tensorflow/tfjs-node-gpu',
  native: '@tensorflow/tfjs-node',
};

const require = createRequire(import.meta.url);

function packageDir(pkg: string): string | undefined {
  try {
    return dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return undefined;
  }
}

function packageVersion(pkg: string): string | undefined {
  const dir = packageDir(pkg);
  if (!dir) return undefined;
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * A native package is usable when its compiled addon and the TensorFlow library it links exist.
 * `npm ci` leaves the package out entirely when its install script fails, and a package installed
 * with scripts off has no addon: both read as absent.
 */
function nativeProbe(name: 'native-gpu' | 'native'): BackendResult<BackendInfo> {
  const pkg = NATIVE_PACKAGE[name];
  const dir = packageDir(pkg);
  if (!dir) return { ok: false, error: `${pkg} is not installed` };
  const libDir = join(dir, 'lib');
  const addon = existsSync(libDir)
    && readdirSync(libDir).some((d) => d.startsWith('napi-v') && existsSync(join(libDir, d, 'tfjs_binding.node')));
  if (!addon) return { ok: false, error: `${pkg} has no compiled addon (run scripts/setup-native-tf.sh)` };
  if (!existsSync(join(dir, 'deps', 'lib', 'libtensorflow.so'))) {
    return { ok: false, error: `${pkg} has no TensorFlow library in deps/lib (run scripts/setup-native-tf.sh)` };
  }
  // Written by scripts/setup-native-tf.sh: the addon reports 2.9.1 whatever library it was built on.
  let tfLib = 'TensorFlow 2.9.1';
  const marker = join(dir, 'deps', 'massflow-libtensorflow.json');
  if (existsSync(marker)) {
    try {
      const m = JSON.parse(readFileSync(marker, 'utf8')) as { source?: string; version?: string };
      tfLib = `TensorFlow ${m.version ?? '?'} (${m.source ?? 'unknown source'})`;
    } catch {
      tfLib = 'TensorFlow (unreadable marker)';
    }
  }
  return { ok: true, value: { name, version: `${pkg.slice('@tensorflow/'.length)} ${packageVersion(pkg) ?? '?'}, ${tfLib}` } };
}

function probe(name: BackendName): BackendResult<BackendInfo> {
  switch (name) {
    case 'native-gpu':
    case 'native':
      return nativeProbe(name);
    case 'wasm': {
      const v = packageVersion('@tensorflow/tfjs-backend-wasm');
      if (!v) return { ok: false, error: '@tensorflow/tfjs-backend-wasm is not installed' };
      return { ok: true, value: { name, version: `tfjs-backend-wasm ${v} simd, training kernels v${WASM_KERNELS_VERSION}` } };
    }
    case 'cpu':
      return { ok: true, value: { name, version: `tfjs ${tf.version_core} cpu` } };
  }
}

/** The backend explicitly requested through the environment, if any. */
export function requestedBackend(env: NodeJS.ProcessEnv = process.env): BackendResult<BackendName | undefined> {
  // The runner may pass a `name@version` label (as recorded); the name is what selects.
  const raw = env[BACKEND_ENV]?.trim().split('@')[0];
  if (!raw || raw === 'auto') return { ok: true, value: undefined };
  if ((BACKEND_NAMES as readonly string[]).includes(raw)) return { ok: true, value: raw as BackendName };
  return { ok: false, error: `${BACKEND_ENV}=${raw} is not a backend; use one of ${BACKEND_NAMES.join(', ')} (or auto)` };
}

/**
 * Which backend loadBackend() would pick, and its version, without loading TensorFlow.
 * An explicit request for a backend that is not installed is an error here already.
 */
export function describeBackend(env: NodeJS.ProcessEnv = process.env): BackendResult<BackendInfo> {
  const req = requestedBackend(env);
  if (!req.ok) return req;
  if (req.value) {
    const p = probe(req.value);
    return p.ok ? p : { ok: false, error: `${BACKEND_ENV}=${req.value} but ${p.error}` };
  }
  const reasons: string[] = [];
  for (const name of ['native-gpu', 'native', 'wasm'] as const) {
    const p = probe(name);
    if (p.ok) return p;
    reasons.push(`${name}: ${p.error}`);
  }
  return { ok: false, error: `no tensor backend available (${reasons.join('; ')})` };
}

let active: LoadedBackend | undefined;

async function activate(info: BackendInfo): Promise<LoadedBackend> {
  if (info.name === 'native' || info.name === 'native-gpu') {
    // TensorFlow's C++ info logs are noise in stage logs (the two lines absl prints before its
    // logging is initialised still appear on stderr; no environment variable silences them).
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
    // Importing the package registers the 'tensorflow' backend on the shared tfjs engine.
    await import(NATIVE_PACKAGE[info.name]);
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
