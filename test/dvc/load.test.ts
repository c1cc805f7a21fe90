// The dvc.yaml loader without DVC: located errors, the one notice for ignored fields, DVC's value
// formatting and stage naming, params files, and `massflow import`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importDvc } from '../../src/dvc/import.js';
import { loadDvcPipeline } from '../../src/dvc/load.js';
import { parsePythonParams } from '../../src/dvc/python-params.js';
import { pyFloatRepr } from '../../src/dvc/values.js';
import { REPO } from '../e2e/rig.js';
import { DVC_VERSION } from './oracle.js';

function load(dvcYaml: string, files: Record<string, string> = {}, overrides: string[] = []) {
  return loadDvcPipeline({
    file: 'dvc.yaml',
    text: dvcYaml,
    name: 'p',
    overrides: overrides.map((raw) => { const [k, v] = raw.split('='); return { path: k!.split('.'), value: JSON.parse(v!), add: false, raw }; }),
    readFile: (p) => files[p],
  });
}

const located = (r: ReturnType<typeof load>) =>
  r.diagnostics.map((d) => `${d.location ? `${d.location.file}:${d.location.range.start.line}:${d.location.range.start.col} ` : ''}${d.severity}: ${d.message}`);

const cmdOf = (r: ReturnType<typeof load>, id: string) => {
  const s = r.pipeline!.stages.find((x) => x.id === id)!;
  return s.impl.kind === 'cmd' ? s.impl.argv.slice(5) : [];
};

describe('dvc.yaml loader', () => {
  it('interpolates as DVC does: Python number formatting, lower-case booleans, dicts as flags, \\${ kept', () => {
    const r = load(
      'stages:\n  s:\n    cmd: echo ${lr} ${tiny} ${big} ${n} ${on} ${opts} \\${x} ${list[1]}\n    outs: [o]\n',
      { 'params.yaml': 'lr: 1.0\ntiny: 0.00001\nbig: 1.0e+16\nn: 3\non: true\nopts: {a: 1, b: "x y", c: true, d: false, e: [1, 2]}\nlist: [p, q]\n' },
    );
    expect(located(r)).toEqual([]);
    expect(cmdOf(r, 's')).toEqual(["echo 1.0 1e-05 1e+16 3 true --a 1 --b 'x y' --c --e 1 2 ${x} q"]);
  });

  it('names foreach and matrix stages as DVC does', () => {
    const r = load(`stages:
  a:
    foreach: [x, 1.0]
    do: { cmd: "echo \${item}", outs: ["a-\${item}"] }
  b:
    foreach: [{n: 1}, {n: 2}]
    do: { cmd: "echo \${item.n}", outs: ["b-\${item.n}"] }
  c:
    foreach: { us: 1, eu: 2 }
    do: { cmd: "echo \${key} \${item}", outs: ["c-\${key}"] }
  d:
    matrix: { m: [cnn, mlp], o: [{k: 1}, {k: 2}] }
    cmd: "echo \${key} \${item.o.k}"
    outs: ["d-\${item.m}-\${item.o.k}"]
`);
    expect(located(r)).toEqual([]);
    expect(r.pipeline!.stages.map((s) => s.id)).toEqual(['a@x', 'a@1.0', 'b@0', 'b@1', 'c@us', 'c@eu', 'd@cnn-o0', 'd@cnn-o1', 'd@mlp-o0', 'd@mlp-o1']);
    expect(cmdOf(r, 'c@eu')).toEqual(['echo eu 2']);
    expect(cmdOf(r, 'd@mlp-o1')).toEqual(['echo mlp-o1 2']);
  });

  it('locates what massflow cannot honour in dvc.yaml, all at once', () => {
    const r = load(`stages:
  a:
    cmd: echo \${missing.key}
  b:
    cmd: echo
    deps: [s3://bucket/data]
    outs: [../outside]
  c:
    cmd: echo
    checkpoint: true
    frozen: \${freeze}
  d:
    cmd: echo
    params: [nope]
    outs:
      - o:
          persist: yes please
`, { 'params.yaml': 'freeze: true\n' });
    expect(r.pipeline).toBeUndefined();
    expect(located(r)).toEqual([
      "dvc.yaml:3:15 error: Could not find 'missing.key'",
      "dvc.yaml:6:12 error: 's3://bucket/data' is not a local path: massflow tracks files in the project only (no external or remote deps and outs)",
      "dvc.yaml:7:12 error: '../outside' leaves the project: massflow tracks files in the project only",
      "dvc.yaml:10:5 error: unknown field 'checkpoint' in stage 'c' (DVC stage fields: cmd, wdir, deps, params, outs, metrics, plots, frozen, always_changed, desc, meta)",
      "dvc.yaml:11:13 error: 'frozen' must be true or false (it cannot come from ${...})",
      "dvc.yaml:14:14 error: params 'nope' missing from 'params.yaml'",
      "dvc.yaml:17:20 error: 'persist' must be true or false",
    ].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })));
  });

  it('accepts the DVC fields it has no use for with one notice', () => {
    const r = load(`plots:
  - acc.csv
stages:
  a:
    desc: first
    meta: {owner: me}
    cmd: echo > o
    outs:
      - o: {remote: store, push: false}
    plots:
      - acc.csv: {x: step, y: acc, cache: false}
`);
    expect(located(r)).toEqual(['dvc.yaml:1:1 warning: ignored (massflow has no use for them): plots, desc, meta, remote, push, x, y']);
    expect(r.pipeline!.stages[0]!.outs).toEqual(['o', 'acc.csv']);
  });

  it('reads params from YAML, JSON, TOML and Python files, keyed and whole, and applies -p to params.yaml', () => {
    const r = load(`stages:
  a:
    cmd: echo \${lr}
    params:
      - lr
      - c.json: [m.depth]
      - s.toml: [opt.rate]
      - h.py:
    outs: [o]
`, {
      'params.yaml': 'lr: 0.1 # the rate\nother: 1\n',
      'c.json': '{"m": {"depth": 4, "w": 1}}',
      's.toml': '[opt]\nrate = 0.5\n',
      'h.py': 'EPOCHS = 3\nNAME = "x"  # a comment\nclass Train:\n    batch = 32\n    def __init__(self):\n        self.lr = 1e-3\nSKIPPED = compute()\n',
    }, ['lr=0.2']);
    expect(located(r)).toEqual([]);
    const s = r.pipeline!.stages[0]!;
    expect(s.params).toEqual({ lr: 0.2, 'c.json': { 'm.depth': 4 }, 's.toml': { 'opt.rate': 0.5 }, 'h.py': { EPOCHS: 3, NAME: 'x', Train: { batch: 32, lr: 0.001 } } });
    expect(cmdOf(r, 'a')).toEqual(['echo 0.2']);
    expect(r.pipeline!.runFiles).toEqual([{ path: 'params.yaml', text: 'lr: 0.2 # the rate\nother: 1\n' }]);
  });

  it('makes wdir-relative paths project-relative and gives DVC restore rules to each stage', () => {
    const r = load(`stages:
  a:
    wdir: sub
    cmd: [make, "make install"]
    deps: [in, ../top]
    outs: [{out: {persist: true}}]
  b:
    cmd: echo
    deps: [sub/out]
    outs: [{b: {cache: false}}]
  c:
    cmd: echo
  d:
    cmd: echo
    deps: [sub/out]
    outs: [d]
`);
    expect(located(r)).toEqual([]);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => r.pipeline!.stages.find((s) => s.id === id));
    expect([a!.deps, a!.outs, a!.persist, cmdOf(r, 'a')]).toEqual([['sub/in', 'top'], ['sub/out'], ['sub/out'], ['make', 'make install']]);
    expect([a!.restore, b!.restore, c!.restore, d!.restore]).toEqual(['last-run', 'last-run', 'last-run', 'any']);
    expect([a!.cache, c!.cache]).toEqual([true, false]);
    expect(r.pipeline!.upstream.get(b!.id)).toEqual(['a']);
  });

  it('import writes a massflow pipeline with a comment wherever the meaning changed', () => {
    const r = load(`stages:
  fit:
    foreach: [a]
    do:
      desc: fit one
      wdir: sub
      cmd: [prep, train]
      params: [{../params.yaml: [lr]}]
      outs: [{m: {persist: true}}]
      metrics: [scores.json, {plot.tsv: {cache: false}}]
`, { 'params.yaml': 'lr: 0.5\n' });
    expect(importDvc(r.pipeline!, r.resolved)).toBe(`# Imported from dvc.yaml by \`massflow import\`. What changed in meaning:
# - foreach and matrix stages are expanded and \${...} values substituted as DVC resolved them;
#   \`massflow run\` reads params from \`params:\` below, not from params.yaml;
# - massflow runs independent stages in parallel, and a produced dep counts by its upstream
#   stage's fingerprint (DVC compares the bytes, so a stage whose upstream reran without
#   changing its output did not rerun);
# - commands run through /bin/sh rather than $SHELL.

name: p
params:
  lr: 0.5
stages:
  # DVC stage 'fit@a'.
  # DVC ran each command in a shell of its own; here they run in one, joined by &&.
  # wdir 'sub': the command starts with cd; paths are relative to the project.
  # params.yaml's lr are read from params: above; a command that reads params.yaml itself must be kept in step (or read $MASSFLOW_PARAMS).
  # sub/m was persist: true; massflow removes outputs before a stage runs.
  # sub/plot.tsv was cache: false; massflow caches every output.
  # sub/plot.tsv was under metrics; massflow keeps it as an output (metrics are JSON files).
  fit-a:
    description: fit one
    cmd: cd sub && prep && train
    params:
      - lr
    outs:
      - sub/m
      - sub/plot.tsv
    metrics:
      - sub/scores.json
`);
  });
});

describe('DVC values', () => {
  it("prints floats as Python's repr", () => {
    expect([1, 0.1, 1e-5, 1e16, 1.5e16, 123456.789, -2.5, 1e-4].map(pyFloatRepr)).toEqual(['1.0', '0.1', '1e-05', '1e+16', '1.5e+16', '123456.789', '-2.5', '0.0001']);
  });

  it('reads Python params files as DVC does', () => {
    expect(parsePythonParams('A = [1, (2, 3)]\nB: int = -4\nC = {"k": None, "t": True}\nD = A\nx.y = 1\n')).toEqual({ A: [1, [2, 3]], B: -4, C: { k: null, t: true } });
  });

  it('pins the same DVC in the venv script and the oracle', () => {
    expect(readFileSync(join(REPO, 'scripts/dvc-venv.sh'), 'utf8')).toContain(`DVC_VERSION="${DVC_VERSION}"`);
  });
});
