// Planning is pure: compile + fingerprints + decide, on in-memory facts.
import { describe, expect, it } from 'vitest';
import { asDigest, asStageId, type Digest } from '../../src/core/brand.js';
import { compilePipeline } from '../../src/spec/compile.js';
import { computeFingerprints, type CodeInfo } from '../../src/plan/fingerprint.js';
import { decide, selectStages } from '../../src/plan/decide.js';
import { diffFingerprints } from '../../src/plan/why.js';
import { describeChange } from '../../src/report/describe.js';
import { interpolate, parseTemplate } from '../../src/spec/interpolate.js';
import { parseOverride } from '../../src/spec/params.js';
import { pipelineJsonSchema } from '../../src/spec/schema.js';
import { readFileSync } from 'node:fs';

const D = (c: string) => asDigest(c.repeat(64).slice(0, 64));

const SPEC = `
name: t
params: { fit: { lr: 0.1, epochs: 3 }, cv: { folds: 3 } }
stages:
  prep: { cmd: [prep], deps: [raw.csv], outs: [data] }
  fit:
    foreach: { fold: "\${range(cv.folds)}" }
    run: stages/fit.ts
    deps: [data]
    params: [fit]
    outs: ["models/f\${fold}"]
  report: { cmd: [report, "\${fit.lr}"], deps: [models], outs: [report.json] }
`;

function compile(overrides: string[] = []) {
  const r = compilePipeline({ file: 'p.yaml', text: SPEC, overrides: overrides.map((o) => { const p = parseOverride(o); if (!p.ok) throw new Error(p.message); return p.override; }) });
  expect(r.diagnostics).toEqual([]);
  return r.pipeline!;
}

function fps(overrides: string[] = [], rawDigest: Digest = D('a'), fitCode: Digest = D('c')) {
  const p = compile(overrides);
  const code = new Map<ReturnType<typeof asStageId>, CodeInfo>();
  for (const s of p.stages) code.set(s.id, s.impl.kind === 'ts' ? { kind: 'ts', files: { 'stages/fit.ts': fitCode } } : { kind: 'cmd', argv: s.impl.argv, shell: false, files: {} });
  return { p, fps: computeFingerprints(p, { code, sourceDeps: new Map([['raw.csv', rawDigest]]), lockfile: D('1'), backend: 'cpu@1' }) };
}

describe('planning', () => {
  it('expands foreach and derives edges from paths, in topological order', () => {
    const p = compile();
    expect(p.stages.map((s) => s.id)).toEqual(['prep', 'fit@fold=0', 'fit@fold=1', 'fit@fold=2', 'report']);
    expect(p.upstream.get(asStageId('report'))!.sort()).toEqual(['fit@fold=0', 'fit@fold=1', 'fit@fold=2']);
    expect(p.stages[4]!.impl).toEqual({ kind: 'cmd', argv: ['report', '0.1'], shell: false });
    const sel = selectStages(p, ['fit@fold=1']);
    expect(sel.ok && [...sel.selected].sort()).toEqual(['fit@fold=1', 'prep']);
  });

  it('a param change reaches only the stages that read it and their dependents', () => {
    const a = fps(), b = fps(['fit.lr=0.2']);
    expect(a.fps.get(asStageId('prep'))!.digest).toBe(b.fps.get(asStageId('prep'))!.digest);
    expect(a.fps.get(asStageId('fit@fold=0'))!.digest).not.toBe(b.fps.get(asStageId('fit@fold=0'))!.digest);
    const changes = diffFingerprints(a.fps.get(asStageId('report'))!.object, b.fps.get(asStageId('report'))!.object).map(describeChange);
    expect(changes).toEqual(['cmd: ["report","0.1"] -> ["report","0.2"]', 'upstream fit@fold=0 changed', 'upstream fit@fold=1 changed', 'upstream fit@fold=2 changed']);
    const dep = diffFingerprints(a.fps.get(asStageId('prep'))!.object, fps([], D('b')).fps.get(asStageId('prep'))!.object).map(describeChange);
    expect(dep).toEqual(['deps raw.csv: digest changed']);
    const code = diffFingerprints(a.fps.get(asStageId('fit@fold=2'))!.object, fps([], D('a'), D('d')).fps.get(asStageId('fit@fold=2'))!.object).map(describeChange);
    expect(code).toEqual(['code stages/fit.ts changed']);
  });

  it('decides fresh, restore and run from facts alone', () => {
    const { p, fps: f } = fps();
    const prepFp = f.get(asStageId('prep'))!;
    const entry = { format: 1 as const, fingerprint: prepFp.digest, stage: asStageId('prep'), outs: { data: { kind: 'dir' as const, digest: D('e'), fileCount: 1, size: 1 } }, runId: 'r' as never, createdAt: '', durationMs: 1 };
    const all = new Set(p.stages.map((s) => s.id));
    const base = { entries: new Map([[prepFp.digest, entry]]), previous: new Map(), workspace: new Map() };
    const restore = decide(p, all, f, { ...base, workspace: new Map([['data', { kind: 'missing' as const }]]) }, false);
    expect(restore[0]!.decision.kind).toBe('restore');
    const fresh = decide(p, all, f, { ...base, workspace: new Map([['data', { kind: 'dir' as const, digest: D('e'), files: [] }]]) }, false);
    expect(fresh.map((x) => x.decision.kind)).toEqual(['fresh', 'run', 'run', 'run', 'run']);
    expect(decide(p, all, f, base, true)[0]!.decision).toEqual({ kind: 'run', reason: { kind: 'forced' } });
  });

  it('plans 10^4 stage instances well within a second', () => {
    const text = `name: big\nparams: { n: 10000 }\nstages:\n  a:\n    foreach: { i: "\${range(n)}" }\n    cmd: [work, "\${i}"]\n    outs: ["out/\${i}"]\n`;
    const r = compilePipeline({ file: 'big.yaml', text });
    expect(r.pipeline!.stages).toHaveLength(10000);
  });
});

describe('interpolation', () => {
  it('keeps types for a lone expression and formats otherwise', () => {
    const scope = { vars: { fold: 2 }, params: { cv: { folds: 3 }, name: 'x' } };
    expect(interpolate('${range(cv.folds)}', scope)).toEqual({ ok: true, value: [0, 1, 2] });
    expect(interpolate('m/${name}-${fold}', scope)).toEqual({ ok: true, value: 'm/x-2' });
    expect(interpolate('$${literal}', scope)).toEqual({ ok: true, value: '${literal}' });
    expect(interpolate('${nope.x}', scope)).toMatchObject({ ok: false, error: { code: 'unknown-param', start: 2, end: 8 } });
    expect(parseTemplate('${range(1,}')).toMatchObject({ ok: false });
  });
});

describe('published JSON Schema', () => {
  it('equals the schema the types and validation come from', () => {
    const published = readFileSync(new URL('../../schema/pipeline.schema.json', import.meta.url), 'utf8');
    expect(published).toBe(pipelineJsonSchema());
  });
});

describe('profiles', () => {
  const text = `name: p\nparams: { fit: { lr: 0.1, epochs: 3 } }\nprofiles:\n  full: { fit.epochs: 200 }\n  bad: { fit.nope: 1 }\nstages:\n  a: { cmd: [x, "\${fit.epochs}", "\${fit.lr}"], outs: [o] }\n`;
  it('applies a named param set before command-line overrides, and locates unknown keys', () => {
    const lr = parseOverride('fit.lr=0.5');
    if (!lr.ok) throw new Error(lr.message);
    const r = compilePipeline({ file: 'p.yaml', text: text.replace('  bad: { fit.nope: 1 }\n', ''), profiles: ['full'], overrides: [lr.override] });
    expect(r.diagnostics).toEqual([]);
    expect(r.pipeline!.stages[0]!.impl).toEqual({ kind: 'cmd', argv: ['x', '200', '0.5'], shell: false });
    const bad = compilePipeline({ file: 'p.yaml', text });
    expect(bad.diagnostics.map((d) => [d.message, d.location?.range.start])).toEqual([["unknown param 'fit.nope' in profile 'bad'", { line: 5, col: 10 }]]);
    const unknown = compilePipeline({ file: 'p.yaml', text: text.replace('  bad: { fit.nope: 1 }\n', ''), profiles: ['huge'] });
    expect(unknown.diagnostics.map((d) => d.message)).toEqual(["unknown profile 'huge' (profiles: full)"]);
  });
});
