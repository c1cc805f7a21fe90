// The tensor backend name and version that enter fingerprints and run records, found without
// loading TensorFlow (src/ml/backend-describe.ts): the runner fingerprints every stage and must
// stay fast. The version names the TensorFlow library and kernels, since they change the numbers.
import { describeBackend } from '../ml/backend-describe.js';

export interface BackendId { name: string; version: string }

export function detectBackend(env: NodeJS.ProcessEnv = process.env): BackendId {
  const d = describeBackend(env);
  if (d.ok) return { name: d.value.name, version: d.value.version };
  // A backend that cannot load still gets a stable label; the stages that need it fail with `d.error`.
  return { name: env['MASSFLOW_BACKEND']?.split('@')[0] || 'none', version: 'unavailable' };
}

export const backendLabel = (b: BackendId) => `${b.name}@${b.version}`;
