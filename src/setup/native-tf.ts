// The native TensorFlow backend for the running massflow installation: scripts/setup-native-tf.sh
// (shipped in the package) does the work; the TensorFlow library lands in the per-user cache.
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { PACKAGE_ROOT } from '../core/package.js';
import { CACHE_DIR_ENV, userCacheDir } from '../core/user-cache.js';

export const NATIVE_TF_SCRIPT = join(PACKAGE_ROOT, 'scripts', 'setup-native-tf.sh');

export type NativeSetupOutcome =
  | { kind: 'ready' }
  /** This machine cannot have it (platform, no pip, PyPI unreachable): massflow keeps using wasm. */
  | { kind: 'unavailable' }
  | { kind: 'failed'; exitCode: number };

/** Runs the script; `onLine` gets each line it prints (its pip progress included). */
export async function setupNativeTf(onLine: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<NativeSetupOutcome> {
  const child = execa('bash', [NATIVE_TF_SCRIPT, PACKAGE_ROOT], {
    reject: false,
    all: true,
    env: { ...env, [CACHE_DIR_ENV]: userCacheDir(env) },
    extendEnv: false,
  });
  let unavailable = false;
  if (child.all) {
    createInterface({ input: child.all }).on('line', (l) => {
      if (l.includes('native backend not installed')) unavailable = true;
      onLine(l);
    });
  }
  const r = await child;
  if (r.exitCode !== 0) return { kind: 'failed', exitCode: r.exitCode ?? -1 };
  return unavailable ? { kind: 'unavailable' } : { kind: 'ready' };
}
