// The DVC fixture projects the oracle test runs with `dvc repro` and `massflow run dvc.yaml`.
// Together they use every dvc.yaml feature massflow reads; each lists the edits made after the
// first run (a dep changed, a param changed, an out deleted, ...) and the stages expected to
// execute after each, which both tools must match.
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Files } from './oracle.js';

export interface Step { what: string; edit?: (dir: string) => void; executed: string[] }
export interface Fixture { name: string; files: Files; steps: Step[] }

const append = (p: string, s: string) => (dir: string) => appendFileSync(join(dir, p), s);
const put = (p: string, s: string) => (dir: string) => writeFileSync(join(dir, p), s);
const replace = (p: string, from: string, to: string) => (dir: string) => {
  const text = readFileSync(join(dir, p), 'utf8');
  if (!text.includes(from)) throw new Error(`${p} has no '${from}'`);
  writeFileSync(join(dir, p), text.replace(from, to));
};
const remove = (p: string) => (dir: string) => rmSync(join(dir, p), { recursive: true, force: true });
const noop: Step = { what: 'no-op rerun', executed: [] };

export const FIXTURES: Fixture[] = [
  {
    name: 'chain: shell cmd, deps, outs, keyed params',
    files: {
      'dvc.yaml': `stages:
  prepare:
    cmd: tr a-z A-Z < data/raw.txt | sort > prepared.txt
    deps: [data/raw.txt]
    outs: [prepared.txt]
  featurize:
    cmd: head -n \${featurize.lines} prepared.txt > features.txt && wc -l < features.txt > count.txt
    deps: [prepared.txt]
    params: [featurize.lines]
    outs: [features.txt, count.txt]
  train:
    cmd: echo "lr=\${train.lr}" | cat - features.txt > model.txt
    deps: [features.txt]
    params: [train]
    outs: [model.txt]
`,
      'params.yaml': 'featurize:\n  lines: 2\ntrain:\n  lr: 0.1\n  seed: 7\nunused: 1\n',
      'data/raw.txt': 'pear\napple\nfig\n',
    },
    steps: [
      { what: 'first run', executed: ['featurize', 'prepare', 'train'] },
      noop,
      { what: 'dep changed, first lines kept', edit: append('data/raw.txt', 'kiwi\n'), executed: ['featurize', 'prepare'] },
      { what: 'dep changed', edit: append('data/raw.txt', 'banana\n'), executed: ['featurize', 'prepare', 'train'] },
      { what: 'dep changed, upstream output the same', edit: put('data/raw.txt', 'fig\napple\npear\nkiwi\nbanana\n'), executed: ['prepare'] },
      { what: 'tracked param changed', edit: replace('params.yaml', 'seed: 7', 'seed: 8'), executed: ['train'] },
      { what: 'untracked param changed', edit: replace('params.yaml', 'unused: 1', 'unused: 2'), executed: [] },
      { what: 'param back to an earlier value (restored from cache)', edit: replace('params.yaml', 'seed: 8', 'seed: 7'), executed: [] },
      { what: 'out deleted (restored from cache)', edit: remove('features.txt'), executed: [] },
      noop,
    ],
  },
  {
    name: 'command lists, multi-line cmd, wdir',
    files: {
      'dvc.yaml': `stages:
  build:
    wdir: sub
    cmd:
      - mkdir -p out
      - cat ../shared.txt in.txt > out/built.txt
      - echo "stage $DVC_STAGE k=\${k}" >> out/built.txt
    deps: [in.txt, ../shared.txt]
    params: [k]
    outs: [out/built.txt]
  pack:
    cmd: |
      cp sub/out/built.txt packed.txt
      echo done >> packed.txt
    deps: [sub/out/built.txt]
    outs: [packed.txt]
`,
      'params.yaml': 'k: 1\n',
      'sub/params.yaml': 'k: 10\n',
      'sub/in.txt': 'inner\n',
      'shared.txt': 'shared\n',
    },
    steps: [
      { what: 'first run', executed: ['build', 'pack'] },
      noop,
      { what: 'param in the wdir params.yaml changed (${} reads the root params.yaml)', edit: put('sub/params.yaml', 'k: 11\n'), executed: ['build'] },
      { what: 'root params.yaml changed (the command changed)', edit: put('params.yaml', 'k: 2\n'), executed: ['build', 'pack'] },
      { what: 'dep outside the wdir changed', edit: append('shared.txt', 'more\n'), executed: ['build', 'pack'] },
      { what: 'out deleted', edit: remove('packed.txt'), executed: [] },
      noop,
    ],
  },
  {
    name: 'outs flags: cache false, persist, metrics and plots',
    files: {
      'dvc.yaml': `stages:
  measure:
    cmd: >-
      echo "{\\"n\\": $(wc -l < in.txt), \\"scale\\": \${scale}}" > metrics.json &&
      printf 'step,value\\n0,1\\n1,\${scale}\\n' > plot.csv &&
      echo run >> history.log &&
      wc -c < in.txt > size.txt
    deps: [in.txt]
    params: [scale]
    outs:
      - size.txt:
          cache: false
      - history.log:
          persist: true
    metrics:
      - metrics.json:
          cache: false
    plots:
      - plot.csv:
          cache: false
          x: step
          y: value
  summary:
    cmd: cat metrics.json size.txt > summary.txt
    deps: [metrics.json, size.txt]
    outs: [summary.txt]
`,
      'params.yaml': 'scale: 2\n',
      'in.txt': 'a\nb\n',
    },
    steps: [
      { what: 'first run', executed: ['measure', 'summary'] },
      noop,
      { what: 'persistent out deleted (no run cache: runs)', edit: remove('history.log'), executed: ['measure'] },
      { what: 'param changed (the persistent out is appended to)', edit: put('params.yaml', 'scale: 3\n'), executed: ['measure', 'summary'] },
      { what: 'uncached out deleted (runs)', edit: remove('size.txt'), executed: ['measure'] },
      { what: 'uncached metric deleted', edit: remove('metrics.json'), executed: ['measure'] },
      { what: 'dep changed', edit: append('in.txt', 'c\n'), executed: ['measure', 'summary'] },
      noop,
    ],
  },
  {
    name: 'params files: JSON, TOML, Python, another YAML, keyed and whole-file',
    files: {
      'dvc.yaml': `stages:
  json:
    cmd: echo "\${model.depth}" > json.txt
    params:
      - config.json: [model.depth]
    outs: [json.txt]
  toml:
    cmd: cat settings.toml > toml.txt
    params:
      - settings.toml: [opt.rate, opt.name]
    outs: [toml.txt]
  py:
    cmd: cat hparams.py > py.txt
    params:
      - hparams.py:
    outs: [py.txt]
  yaml:
    cmd: cat extra.yaml > yaml.txt
    params:
      - extra.yaml:
      - seed
    outs: [yaml.txt]
`,
      'params.yaml': 'seed: 1\nmodel:\n  depth: 3\n',
      'config.json': '{"model": {"depth": 4, "width": 8}}\n',
      'settings.toml': '[opt]\nrate = 0.5\nname = "adam"\nother = 1\n',
      'hparams.py': 'EPOCHS = 3\nLR = 0.01\nclass Train:\n    batch = 32\n',
      'extra.yaml': 'a: 1\nb: [1, 2]\n',
    },
    steps: [
      { what: 'first run', executed: ['json', 'py', 'toml', 'yaml'] },
      noop,
      { what: 'tracked JSON key changed', edit: replace('config.json', '"depth": 4', '"depth": 5'), executed: ['json'] },
      { what: 'untracked JSON key changed', edit: replace('config.json', '"width": 8', '"width": 9'), executed: [] },
      { what: 'tracked TOML key changed', edit: replace('settings.toml', 'rate = 0.5', 'rate = 0.25'), executed: ['toml'] },
      { what: 'untracked TOML key changed', edit: replace('settings.toml', 'other = 1', 'other = 2'), executed: [] },
      { what: 'whole-file Python params changed', edit: replace('hparams.py', 'batch = 32', 'batch = 64'), executed: ['py'] },
      { what: 'whole-file YAML params grew a key', edit: append('extra.yaml', 'c: 3\n'), executed: ['yaml'] },
      { what: 'keyed params.yaml value changed', edit: replace('params.yaml', 'seed: 1', 'seed: 2'), executed: ['yaml'] },
      { what: 'out deleted', edit: remove('json.txt'), executed: [] },
      noop,
    ],
  },
  {
    name: 'vars and interpolation: files, inline maps, dotted keys, indexes, Python formatting, dicts as flags',
    files: {
      'dvc.yaml': `vars:
  - defaults.yaml
  - extra.json:sizes
  - inline:
      name: demo
      flags: {verbose: true, quiet: false, depth: 3, tag: "a b", layers: [1, 2]}
stages:
  show:
    vars:
      - local: {greeting: hi}
    cmd: >-
      echo "\${inline.name} \${local.greeting} \${lr} \${tiny} \${big} \${on} \${sizes[1]} \${sizes.0} \\\${literal}"
      > shown.txt && echo \${inline.flags} >> shown.txt
    deps: [defaults.yaml]
    outs: [shown.txt]
  copy:
    cmd: cp shown.txt "\${inline.name}-\${sizes[0]}.txt"
    deps: [shown.txt]
    outs: ["\${inline.name}-\${sizes[0]}.txt"]
`,
      'params.yaml': 'lr: 1.0\ntiny: 0.00001\nbig: 1.0e+16\non: true\n',
      'defaults.yaml': 'unrelated: x\n',
      'extra.json': '{"sizes": [64, 128], "ignored": 1}\n',
    },
    steps: [
      { what: 'first run', executed: ['copy', 'show'] },
      noop,
      { what: 'value used only through ${} changed (the command changed)', edit: replace('params.yaml', 'lr: 1.0', 'lr: 2.5'), executed: ['copy', 'show'] },
      { what: 'dep changed', edit: append('defaults.yaml', 'more: y\n'), executed: ['show'] },
      { what: 'out deleted', edit: remove('shown.txt'), executed: [] },
      noop,
    ],
  },
  {
    name: 'foreach over a list of values and a list of maps',
    files: {
      'dvc.yaml': `stages:
  split:
    foreach: [train, test]
    do:
      cmd: grep "^\${item}" data.txt > \${item}.txt
      deps: [data.txt]
      outs: ["\${item}.txt"]
  score:
    foreach:
      - {name: small, k: 1}
      - {name: large, k: 2}
    do:
      cmd: head -n \${item.k} train.txt > score-\${item.name}.txt
      deps: [train.txt]
      outs: ["score-\${item.name}.txt"]
`,
      'data.txt': 'train 1\ntest 2\ntrain 3\n',
    },
    steps: [
      { what: 'first run', executed: ['score@0', 'score@1', 'split@test', 'split@train'] },
      noop,
      { what: 'dep changed for test rows only', edit: append('data.txt', 'test 4\n'), executed: ['split@test', 'split@train'] },
      { what: 'dep changed for train rows', edit: append('data.txt', 'train 5\n'), executed: ['score@0', 'score@1', 'split@test', 'split@train'] },
      { what: 'out deleted', edit: remove('score-small.txt'), executed: [] },
      noop,
    ],
  },
  {
    name: 'foreach over a map from params.yaml with ${key}',
    files: {
      'dvc.yaml': `stages:
  fit:
    foreach: \${models}
    do:
      cmd: echo "\${key} \${item.alpha} \${item.iters}" > fit-\${key}.txt
      params: ["models.\${key}"]
      outs: ["fit-\${key}.txt"]
  best:
    cmd: cat fit-ridge.txt fit-lasso.txt > best.txt
    deps: [fit-ridge.txt, fit-lasso.txt]
    outs: [best.txt]
`,
      'params.yaml': 'models:\n  ridge: {alpha: 0.5, iters: 10}\n  lasso: {alpha: 0.1, iters: 20}\n',
    },
    steps: [
      { what: 'first run', executed: ['best', 'fit@lasso', 'fit@ridge'] },
      noop,
      { what: 'one item param changed', edit: replace('params.yaml', 'alpha: 0.1', 'alpha: 0.2'), executed: ['best', 'fit@lasso'] },
      { what: 'out deleted', edit: remove('best.txt'), executed: [] },
      noop,
    ],
  },
  {
    name: 'matrix with values from params and a composite axis',
    files: {
      'dvc.yaml': `stages:
  cell:
    matrix:
      model: \${models}
      opt:
        - {name: sgd, lr: 0.1}
        - {name: adam, lr: 0.001}
    cmd: echo "\${item.model} \${item.opt.name} \${item.opt.lr} \${key}" > cell-\${item.model}-\${item.opt.name}.txt
    deps: [base.txt]
    outs: ["cell-\${item.model}-\${item.opt.name}.txt"]
  grid:
    cmd: cat cell-*.txt > grid.txt
    deps: [cell-cnn-sgd.txt, cell-cnn-adam.txt, cell-mlp-sgd.txt, cell-mlp-adam.txt]
    outs: [grid.txt]
`,
      'params.yaml': 'models: [cnn, mlp]\n',
      'base.txt': 'base\n',
    },
    steps: [
      { what: 'first run', executed: ['cell@cnn-opt0', 'cell@cnn-opt1', 'cell@mlp-opt0', 'cell@mlp-opt1', 'grid'] },
      noop,
      { what: 'dep changed (outputs the same)', edit: append('base.txt', 'more\n'), executed: ['cell@cnn-opt0', 'cell@cnn-opt1', 'cell@mlp-opt0', 'cell@mlp-opt1'] },
      { what: 'out deleted', edit: remove('cell-mlp-adam.txt'), executed: [] },
      noop,
    ],
  },
  {
    name: 'frozen stages',
    files: {
      'dvc.yaml': `stages:
  download:
    cmd: cp source.txt raw.txt
    deps: [source.txt]
    outs: [raw.txt]
  clean:
    cmd: tr a-z A-Z < raw.txt > clean.txt
    deps: [raw.txt]
    outs: [clean.txt]
    frozen: false
  use:
    cmd: cat clean.txt extra.txt > use.txt
    deps: [clean.txt, extra.txt]
    outs: [use.txt]
`,
      'source.txt': 'abc\n',
      'extra.txt': 'x\n',
    },
    steps: [
      { what: 'first run', executed: ['clean', 'download', 'use'] },
      { what: 'frozen; its upstream dep changed (the upstream runs, the frozen stage not)', edit: (dir) => { replace('dvc.yaml', 'frozen: false', 'frozen: true')(dir); append('source.txt', 'def\n')(dir); }, executed: ['download'] },
      { what: 'frozen; a downstream dep changed', edit: append('extra.txt', 'y\n'), executed: ['use'] },
      { what: 'unfrozen', edit: replace('dvc.yaml', 'frozen: true', 'frozen: false'), executed: ['clean', 'use'] },
      noop,
    ],
  },
  {
    name: 'always_changed, stages without deps, callback stages',
    files: {
      'dvc.yaml': `stages:
  stamp:
    cmd: echo fixed > stamp.txt
    outs: [stamp.txt]
  always:
    cmd: cat stamp.txt input.txt > always.txt
    deps: [stamp.txt, input.txt]
    outs: [always.txt]
    always_changed: true
  notify:
    cmd: echo notified
  after:
    cmd: cat always.txt > after.txt
    deps: [always.txt]
    outs: [after.txt]
`,
      'input.txt': 'in\n',
    },
    steps: [
      { what: 'first run', executed: ['after', 'always', 'notify', 'stamp'] },
      { what: 'rerun (always-changed and callback stages run again)', executed: ['always', 'notify'] },
      { what: 'out of a stage without deps deleted', edit: remove('stamp.txt'), executed: ['always', 'notify', 'stamp'] },
      { what: 'dep changed', edit: append('input.txt', 'more\n'), executed: ['after', 'always', 'notify'] },
    ],
  },
  {
    name: 'directories as outs and deps',
    files: {
      'dvc.yaml': `stages:
  shard:
    cmd: mkdir -p shards && split -l 1 rows.txt shards/part-
    deps: [rows.txt]
    outs: [shards]
  first:
    cmd: cat shards/part-aa > first.txt
    deps: [shards/part-aa]
    outs: [first.txt]
  all:
    cmd: cat shards/* | sort > all.txt
    deps: [shards]
    outs: [all.txt]
`,
      'rows.txt': 'b\na\n',
    },
    steps: [
      { what: 'first run', executed: ['all', 'first', 'shard'] },
      noop,
      { what: 'dep changed: a new shard', edit: append('rows.txt', 'c\n'), executed: ['all', 'shard'] },
      { what: 'dep changed: the first shard', edit: put('rows.txt', 'z\na\nc\n'), executed: ['all', 'first', 'shard'] },
      { what: 'out directory deleted', edit: remove('shards'), executed: [] },
      noop,
    ],
  },
];
