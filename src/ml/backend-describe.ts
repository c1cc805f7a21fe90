// Which tensor backend a process would use, and its exact version, answered from package files
// only: no TensorFlow is loaded (the native library takes 0.5 s), because the runner fingerprints
// every stage with this and `massflow status` must stay fast. ./backend.ts loads what this names.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Bump when the custom wasm training kernels change their numbers. */
export const WASM_KERNELS_VERSION = 1;

export const BACKEND_NAMES = ['native-gpu', 'native', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export const BACKEND_ENV = 'MASSFLOW_BACKEND';

export interface BackendInfo {
  readonly name: BackendName;
  /** Everything that changes the numbers: package versions, the TensorFlow library, our kernels. */
  readonly version: string;
}

export type BackendResult<T> = { ok: true; value: T } | { ok: false; error: string };


export const NATIVE_PACKAGE: Record<'native-gpu' | 'native', string> = {
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
  if (!addon) return { ok: false, error: `${pkg} has no compiled addon (run \`massflow setup --native\`)` };
  if (!existsSync(join(dir, 'deps', 'lib', 'libtensorflow.so'))) {
    return { ok: false, error: `${pkg} has no TensorFlow library in deps/lib (run \`massflow setup --native\`)` };
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

export function probe(name: BackendName): BackendResult<BackendInfo> {
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
      return { ok: true, value: { name, version: `tfjs ${packageVersion('@tensorflow/tfjs-core') ?? '?'} cpu` } };
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

