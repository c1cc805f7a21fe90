// Compiled pipelines kept between commands: a kept one is the pipeline the compiler gives, and a
// change to the text, the arguments or a file the compiler looked for compiles again.
import { afterEach, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPipeline, pruneCompiledSpecs, type LoadResult } from '../../src/project/load.js';
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
  it('keeps a dvc.yaml too, and compiles it again when a params file it read changed, appeared or went', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mf-compiled-'));
    writeFileSync(join(dir, 'dvc.yaml'), 'stages:\n  fit:\n    cmd: python fit.py --lr ${lr}\n    params: [lr]\n    outs: [model.txt]\n');
    writeFileSync(join(dir, 'params.yaml'), 'lr: 0.1\n');
    const cmd = async () => pipelineOf(await loadPipeline(dir, 'dvc.yaml', [], [], kept())).stages[0]!.impl;
    expect(JSON.stringify(await cmd())).toContain('--lr 0.1');
    expect(readdirSync(kept())).toHaveLength(1);
    const file = join(kept(), readdirSync(kept())[0]!);
    expect(JSON.parse(readFileSync(file, 'utf8')).answers.read).toContainEqual(['params.yaml', expect.stringMatching(/^[0-9a-f]{64}$/)]);
    // Served from the kept file while params.yaml is unchanged: a marker put into it comes back.
    const marked = JSON.parse(readFileSync(file, 'utf8'));
    marked.pipeline.description = 'served from the kept file';
    writeFileSync(file, JSON.stringify(marked));
    expect(pipelineOf(await loadPipeline(dir, 'dvc.yaml', [], [], kept())).description).toBe('served from the kept file');
    writeFileSync(join(dir, 'params.yaml'), 'lr: 0.2\n');
    expect(JSON.stringify(await cmd())).toContain('--lr 0.2');
    rmSync(join(dir, 'params.yaml'));
    const gone = await loadPipeline(dir, 'dvc.yaml', [], [], kept());
    expect(gone.ok ? 'compiled' : gone.diagnostics.map((d) => d.message).join('\n')).toMatch(/lr/);
    writeFileSync(join(dir, 'params.yaml'), 'lr: 0.3\n');
    expect(JSON.stringify(await cmd())).toContain('--lr 0.3');
  });
});

describe('pruning kept compiled pipelines (gc)', () => {
  it('removes only what no command can use again: a changed or deleted spec, another compiler build, damage', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mf-compiled-'));
    const spec = (name: string) => `name: ${name}\nstages:\n  a: { cmd: [touch, a.txt], outs: [a.txt] }\n`;
    writeFileSync(join(dir, 'p.yaml'), spec('one'));
    writeFileSync(join(dir, 'q.yaml'), spec('q'));
    for (const o of [[], ['x=1']]) pipelineOf(await loadPipeline(dir, 'p.yaml', parseOverrides(o.map((x) => `+${x}`)), [], kept()));
    pipelineOf(await loadPipeline(dir, 'q.yaml', [], [], kept()));
    expect(readdirSync(kept())).toHaveLength(3);
    // Nothing changed: everything kept is still usable.
    expect(pruneCompiledSpecs(kept(), false)).toEqual({ removed: 0, bytes: 0 });
    // p.yaml's text changes (its two kept pipelines are dead), q.yaml goes, one file is damaged,
    // and a pipeline kept by another compiler build is planted.
    writeFileSync(join(dir, 'p.yaml'), spec('two'));
    const current = pipelineOf(await loadPipeline(dir, 'p.yaml', [], [], kept()));
    rmSync(join(dir, 'q.yaml'));
    const [first] = readdirSync(kept());
    const planted = JSON.parse(readFileSync(join(kept(), first!), 'utf8')) as { stamp: string; key: string };
    writeFileSync(join(kept(), 'other-build.json'), JSON.stringify({ ...planted, stamp: 'another build', key: 'k' }));
    writeFileSync(join(kept(), 'torn.json'), '{"v":3,');
    expect(readdirSync(kept())).toHaveLength(6);
    const dry = pruneCompiledSpecs(kept(), true);
    expect(dry.removed).toBe(5);
    expect(dry.bytes).toBeGreaterThan(0);
    expect(readdirSync(kept())).toHaveLength(6);
    expect(pruneCompiledSpecs(kept(), false)).toEqual(dry);
    expect(readdirSync(kept())).toHaveLength(1);
    // The one left is the current text's, and it is still served.
    const again = pipelineOf(await loadPipeline(dir, 'p.yaml', [], [], kept()));
    expect(again.name).toBe(current.name);
    expect(readdirSync(kept())).toHaveLength(1);
  });
});
