// `massflow setup`: what is optional and heavy, into the per-user cache shared by every project:
// the native TensorFlow backend (from the PyPI wheel) and the pinned MLflow server. Each part is
// idempotent (done parts return at once) and resumable (a second run picks up where one stopped).
import { resolve } from 'node:path';
import { userCacheDir } from '../../core/user-cache.js';
import { setupNativeTf, type NativeSetupOutcome } from '../../setup/native-tf.js';
import { MLFLOW_VERSION, ensureVenv, userVenvDir } from '../../track/server/venv.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../terminal.js';

export interface SetupOptions { native?: boolean; mlflow?: boolean; mlflowVenv?: string }

function nativeLine(o: NativeSetupOutcome): string {
  switch (o.kind) {
    case 'ready': return 'native TensorFlow backend: ready';
    case 'unavailable': return 'native TensorFlow backend: not available on this machine (see above); massflow uses wasm';
    case 'failed': return `native TensorFlow backend: FAILED (exit ${o.exitCode}; see above)`;
  }
}

export async function setupCommand(opts: SetupOptions, term: Terminal): Promise<ExitCode> {
  // No part named: both.
  const both = !opts.native && !opts.mlflow;
  const parts = [...(both || opts.native ? ['native' as const] : []), ...(both || opts.mlflow ? ['mlflow' as const] : [])];
  term.out.write(`per-user cache: ${userCacheDir()} (set MASSFLOW_CACHE_DIR to move it)\n`);
  const summary: string[] = [];
  let failed = false;
  for (const [i, part] of parts.entries()) {
    const step = `[${i + 1}/${parts.length}]`;
    const t0 = Date.now();
    const took = () => `${Math.round((Date.now() - t0) / 1000)} s`;
    if (part === 'native') {
      term.out.write(`${step} native TensorFlow backend (tensorflow-cpu wheel from PyPI, ~275 MB download once)\n`);
      const o = await setupNativeTf((l) => term.out.write(`  ${l}\n`));
      failed ||= o.kind === 'failed';
      summary.push(`${nativeLine(o)} (${took()})`);
    } else {
      const dir = opts.mlflowVenv ? resolve(opts.mlflowVenv) : userVenvDir();
      term.out.write(`${step} MLflow ${MLFLOW_VERSION} server in ${dir}\n`);
      const r = await ensureVenv(dir, { onLog: (l) => term.out.write(`  ${l}\n`), onOutput: (l) => term.out.write(`  pip: ${l}\n`) });
      if (r.ok) summary.push(`MLflow ${r.value.version}: ${r.value.created ? 'installed' : 'already there'} in ${dir} (${took()})`);
      else {
        failed = true;
        summary.push(`MLflow: FAILED: ${r.error.message}`);
      }
    }
  }
  term.out.write(`\n${summary.join('\n')}\n`);
  return failed ? EXIT.stageFailed : EXIT.ok;
}
