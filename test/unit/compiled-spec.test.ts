// Compiled pipelines kept between commands: a kept one is the pipeline the compiler gives, and a
// change to the text, the arguments or a file the compiler looked for compiles again.
import { afterEach, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPipeline, type LoadResult } from '../../src/project/load.js';
import { parseOverrides } from '../../src/cli/common.js';
import type { Pipeline } from '../../src/pipeline/model.js';
import { REPO } from '../e2e/rig.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const kept = () => join(dir, '.massflow/state/compiled');
const pipelineOf = (r: LoadResult) => { if (!r.ok) throw new Error(JSON.stringify(r.diagnostics)); return r.pipeline; };

describe('compiled spec cache', () => {
  it('gives back exactly what the compiler gave, for the paper pipeline with a profile and overrides', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mf-compiled-'));
    cpSync(join(REPO, 'pipelines'), join(dir, 'pipelines'), { recursive: true });
    cpSync(join(REPO, 'stages'), join(dir, 'stages'), { recursive: true });
    const args = [dir, 'pipelines/paper.yaml', parseOverrides(['fit.epochs=3']), ['wide'], kept()] as const;
    const compiled = pipelineOf(await loadPipeline(...args));
    expect(readdirSync(kept())).toHaveLength(1);
    const again = pipelineOf(await loadPipeline(...args));
    expect(again).not.toBe(compiled);
    const plain = (p: Pipeline) => JSON.stringify({ ...p, source: undefined, upstream: [...p.upstream] });
    expect(plain(again)).toBe(plain(compiled));
    expect([...again.upstream]).toEqual([...compiled.upstream]);
    // The parsed source, read only to locate later findings, locates the same.
    const fit = compiled.stages.find((st) => st.name === 'fit-mass')!;
    expect(again.source.locate([...fit.yamlPath, 'params'])).toEqual(compiled.source.locate([...fit.yamlPath, 'params']));
    expect(again.source.locate([...fit.yamlPath, 'params'])?.range.start.line).toBeGreaterThan(1);
    // Other overrides are another key.
    const other = pipelineOf(await loadPipeline(dir, 'pipelines/paper.yaml', parseOverrides(['fit.epochs=4']), ['wide'], kept()));
    expect(JSON.stringify(other.params)).not.toBe(JSON.stringify(compiled.params));
    expect(readdirSync(kept())).toHaveLength(2);
  });

  it('compiles again when a stage module it found is gone, or the text changed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mf-compiled-'));
    writeFileSync(join(dir, 'p.yaml'), 'name: k\nstages:\n  a: { run: a.ts, outs: [a.txt] }\n');
    writeFileSync(join(dir, 'a.ts'), 'export default {}\n');
    expect((await loadPipeline(dir, 'p.yaml', [], [], kept())).ok).toBe(true);
    expect((await loadPipeline(dir, 'p.yaml', [], [], kept())).ok).toBe(true);
    rmSync(join(dir, 'a.ts'));
    const gone = await loadPipeline(dir, 'p.yaml', [], [], kept());
    expect(gone.ok).toBe(false);
    expect(gone.ok ? [] : gone.diagnostics.map((d) => d.message).join('\n')).toContain('a.ts');
    writeFileSync(join(dir, 'a.ts'), 'export default {}\n');
    writeFileSync(join(dir, 'p.yaml'), 'name: k2\nstages:\n  a: { run: a.ts, outs: [a.txt] }\n');
    expect(pipelineOf(await loadPipeline(dir, 'p.yaml', [], [], kept())).name).toBe('k2');
    expect(existsSync(kept())).toBe(true);
  });
});
