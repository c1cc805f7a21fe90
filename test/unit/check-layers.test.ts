// The layer check of docs/architecture.md: upward and peer imports, cycles, stale exceptions.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLayers, findCycles, importGraph, rulesFromDoc, type ImportGraph } from '../../scripts/check-layers.js';

const rules = { layers: [['core'], ['cache', 'track'], ['exec'], ['cli']], exceptions: [] };
const graph = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));

describe('checkLayers', () => {
  it('allows imports within a folder and down the layers', () => {
    const r = checkLayers(graph({ 'cli/main.ts': ['exec/run.ts', 'core/brand.ts', 'cli/common.ts'], 'cli/common.ts': [], 'exec/run.ts': ['cache/store.ts'], 'cache/store.ts': ['core/brand.ts'], 'core/brand.ts': [] }), rules);
    expect(r).toEqual({ violations: [], stale: [], all: { upward: [], cycles: [] } });
  });

  it('rejects an import upward, between peers, and from or into a folder with no layer', () => {
    const r = checkLayers(graph({ 'exec/run.ts': ['cli/main.ts'], 'cache/store.ts': ['track/ops.ts'], 'track/ops.ts': [], 'cli/main.ts': [], 'misc/x.ts': ['core/a.ts'], 'core/a.ts': ['misc/x.ts'] }), rules);
    expect(r.all.upward).toEqual([
      'cache/store.ts -> track/ops.ts',
      'core/a.ts -> misc/x.ts: misc has no layer',
      'exec/run.ts -> cli/main.ts',
      'misc/x.ts is in misc, a folder with no layer',
    ]);
    expect(r.all.cycles).toEqual(['folder cycle core misc', 'cycle core/a.ts misc/x.ts']);
  });

  it('finds a cycle of files inside one folder, through a third file', () => {
    const r = checkLayers(graph({ 'exec/a.ts': ['exec/b.ts'], 'exec/b.ts': ['exec/c.ts'], 'exec/c.ts': ['exec/a.ts'], 'exec/d.ts': ['exec/a.ts'] }), rules);
    expect(r.violations).toEqual(['cycle exec/a.ts exec/b.ts exec/c.ts']);
  });

  it('tolerates listed exceptions and reports the ones that no longer occur', () => {
    const r = checkLayers(graph({ 'exec/run.ts': ['cli/main.ts'], 'cli/main.ts': [] }), { ...rules, exceptions: ['exec/run.ts -> cli/main.ts', 'exec/gone.ts -> cli/main.ts'] });
    expect(r.violations).toEqual([]);
    expect(r.stale).toEqual(['exec/gone.ts -> cli/main.ts']);
  });
});

describe('findCycles', () => {
  it('reports a file importing itself and leaves a DAG alone', () => {
    expect(findCycles(graph({ 'a.ts': ['a.ts'] }))).toEqual([['a.ts']]);
    expect(findCycles(graph({ 'a.ts': ['b.ts', 'c.ts'], 'b.ts': ['c.ts'], 'c.ts': [] }))).toEqual([]);
  });
});

describe('rulesFromDoc', () => {
  it('reads the layers top first, peers on a line, comments dropped', () => {
    const doc = 'text\n```layers\ncli   # top\nexec cache\n\ncore\n```\n```exceptions\n# none yet\nexec/a.ts -> cli/b.ts\n```\n';
    expect(rulesFromDoc(doc)).toEqual({ layers: [['core'], ['exec', 'cache'], ['cli']], exceptions: ['exec/a.ts -> cli/b.ts'] });
  });

  it('fails when the document has no layers block', () => {
    expect(() => rulesFromDoc('# nothing\n')).toThrow('no ```layers block');
  });
});

describe('importGraph', () => {
  it('resolves static, type-only, re-export and dynamic imports to files, ignoring packages', () => {
    const src = mkdtempSync(join(tmpdir(), 'layers-'));
    const write = (path: string, text: string) => { mkdirSync(dirname(join(src, path)), { recursive: true }); writeFileSync(join(src, path), text); };
    write('core/brand.ts', 'export type Id = string;\n');
    write('track/index.ts', "export * from './ops.js';\n");
    write('track/ops.ts', 'export const op = 1;\n');
    write('exec/run.ts', "import type { Id } from '../core/brand.js';\nimport { op } from '../track';\nimport { x } from 'node:fs';\nexport const f = async () => import('../cli/main.js');\n");
    write('cli/main.ts', 'export {};\n');
    const g = importGraph(src);
    expect(g.get('exec/run.ts')).toEqual(['core/brand.ts', 'track/index.ts', 'cli/main.ts']);
    expect(g.get('track/index.ts')).toEqual(['track/ops.ts']);
  });
});
