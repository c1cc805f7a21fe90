// What a command loads is part of its cost (docs/runner-profile.md): an offline run that executes a
// stage loads no MLflow server start-up code, no HTTP stack, no schema validator and no rasteriser,
// and a warm `status` not even the YAML parser. A module-resolution hook records every module the
// process loads, so an import that drags one of them back in fails here, not only in a benchmark.
import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { BIN, Rig, baseEnv } from './rig.js';

let rig: Rig;
afterEach(() => rig?.cleanup());

/** Runs massflow with a resolve hook; returns the package (or dist/ module) of every module it loaded. */
async function loaded(args: string[]): Promise<{ code: number; modules: Set<string> }> {
  const log = rig.path('modules.log');
  writeFileSync(rig.path('hooks.mjs'), `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }\n`);
  writeFileSync(rig.path('register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(rig.path('hooks.mjs')).href)});\n`);
  writeFileSync(log, '');
  const r = await execa(process.execPath, ['--import', pathToFileURL(rig.path('register.mjs')).href, BIN, ...args], {
    cwd: rig.dir, reject: false, env: { ...baseEnv(), CI: '1', NO_COLOR: '1' }, extendEnv: false,
  });
  const modules = new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean).map((u) => {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
    return m ? m[1]! : u.replace(/^.*\/dist\//, 'dist/');
  }));
  return { code: r.exitCode ?? -1, modules };
}

const HEAVY = ['undici', 'execa', '@sinclair/typebox', '@resvg/resvg-wasm', '@aws-sdk/client-s3', '@tensorflow/tfjs', 'dist/track/server/lifecycle.js', 'dist/track/mlflow/client.js'];

describe('modules a command loads', () => {
  it('an offline run of a dvc.yaml stage loads none of the heavy ones once the spec is kept compiled; status not the YAML parser', async () => {
    rig = Rig.create({
      'dvc.yaml': 'stages:\n  copy:\n    cmd: cp in.txt out.txt\n    deps: [in.txt]\n    outs: [out.txt]\n',
      'in.txt': 'one\n',
    });
    expect((await rig.run(['run', 'dvc.yaml', '--tracking-uri', 'none'])).code).toBe(0);
    rig.write('in.txt', 'two\n');
    const run = await loaded(['run', 'dvc.yaml', '--tracking-uri', 'none']);
    expect(run.code).toBe(0);
    expect(rig.read('out.txt')).toBe('two\n');
    // It did track (offline) and write its timeline.
    expect(run.modules).toContain('dist/track/tracker.js');
    expect(HEAVY.filter((m) => run.modules.has(m))).toEqual([]);
    expect(run.modules).not.toContain('yaml');

    const status = await loaded(['status', 'dvc.yaml']);
    expect(status.code).toBe(0);
    expect([...HEAVY, 'yaml', 'dist/track/tracker.js'].filter((m) => status.modules.has(m))).toEqual([]);
  });
});
