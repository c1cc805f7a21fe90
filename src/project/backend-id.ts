// The tensor backend name and version that enter fingerprints and run records, found without
// loading TensorFlow: the runner fingerprints every stage and must stay fast.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface BackendId { name: string; version: string }

const require_ = createRequire(import.meta.url);

function packageVersion(pkg: string): string | undefined {
  try {
    const main = require_.resolve(`${pkg}/package.json`);
    return (JSON.parse(readFileSync(main, 'utf8')) as { version: string }).version;
  } catch { return undefined; }
}

function nativeAddonBuilt(pkg: string): boolean {
  try {
    const dir = dirname(require_.resolve(`${pkg}/package.json`));
    return existsSync(join(dir, 'lib')) && existsSync(join(dir, 'deps', 'lib'));
  } catch { return false; }
}

export function detectBackend(env: NodeJS.ProcessEnv = process.env): BackendId {
  const forced = env['MASSFLOW_BACKEND'];
  const tfjs = packageVersion('@tensorflow/tfjs-core') ?? packageVersion('@tensorflow/tfjs') ?? 'none';
  if (forced) return { name: forced, version: forced.startsWith('native') ? packageVersion('@tensorflow/tfjs-node') ?? tfjs : tfjs };
  if (nativeAddonBuilt('@tensorflow/tfjs-node-gpu')) return { name: 'native-gpu', version: packageVersion('@tensorflow/tfjs-node-gpu')! };
  if (nativeAddonBuilt('@tensorflow/tfjs-node')) return { name: 'native', version: packageVersion('@tensorflow/tfjs-node')! };
  return { name: 'wasm', version: packageVersion('@tensorflow/tfjs-backend-wasm') ?? tfjs };
}

export const backendLabel = (b: BackendId) => `${b.name}@${b.version}`;
