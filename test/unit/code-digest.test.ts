// A TS stage's code digest: its module and the project sources it imports, and the running
// massflow's version when it imports `massflow/...` (which resolves to the running massflow even
// without a lockfile entry for it).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/cache/canonical.js';
import { MASSFLOW_VERSION } from '../../src/core/package.js';
import { CodeDigester } from '../../src/project/code.js';

const dir = mkdtempSync(join(tmpdir(), 'massflow-code-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(p: string, text: string) {
  mkdirSync(join(dir, p, '..'), { recursive: true });
  writeFileSync(join(dir, p), text);
}

describe('code digest of a TS stage', () => {
  it('follows relative imports and adds the massflow version only for massflow imports', () => {
    write('lib/util.ts', "import { defineStage } from 'massflow/stage';\nexport const x = defineStage;\n");
    write('stages/a.ts', "import { x } from '../lib/util.js';\nexport default x;\n");
    write('stages/b.ts', "import { readFileSync } from 'node:fs';\nexport default readFileSync;\n");
    const d = new CodeDigester(dir);
    expect(Object.keys(d.moduleGraph('stages/a.ts')).sort()).toEqual(['lib/util.ts', `massflow@${MASSFLOW_VERSION}`, 'stages/a.ts']);
    expect(d.moduleGraph('stages/a.ts')[`massflow@${MASSFLOW_VERSION}`]).toBe(sha256(MASSFLOW_VERSION));
    expect(Object.keys(d.moduleGraph('stages/b.ts'))).toEqual(['stages/b.ts']);
  });
});
