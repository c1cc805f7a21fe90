// Benchmark: how fast a `cmd:` stage's points travel through the events file (MASSFLOW_EVENTS, written
// by the Python helper) against a TS stage's points over IPC, both measured in the same run through
// the real CLI into the run record; and a training loop's epoch time with and without the helper
// logging 1,000 points/s (goal: no measurable slowdown).
//   node --import tsx bench/stages/channel.ts [--points 50000] [--epochs 300] [--per-epoch 15]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const POINTS = arg('--points', 50_000);
const EPOCHS = arg('--epochs', 300);
const PER_EPOCH = arg('--per-epoch', 15);
const DEFINE = pathToFileURL(join(REPO, 'src/stage/define.ts')).href;

const PY_POINTS = `
import time, massflow as mf
n = mf.param("n", int)
t = time.perf_counter()
for i in range(n):
    mf.log_metric("loss", 1.0 / (i + 1), step=i)
open("out/py.txt", "w").write(str(time.perf_counter() - t))
`;

const TS_POINTS = `
import { writeFileSync } from 'node:fs';
import { defineStage } from '${DEFINE}';
export default defineStage({
  async run(ctx) {
    const n = ctx.params.n as number;
    const t = performance.now();
    for (let i = 0; i < n; i++) ctx.metric('loss', 1 / (i + 1), i);
    writeFileSync('out/ts.txt', String((performance.now() - t) / 1000));
  },
});
`;

// An epoch: a fixed amount of arithmetic (10-15 ms on the cores measured), then PER_EPOCH points,
// about 1,000 points/s; log=0 skips the logging calls. Epoch times are the script's own clock.
const PY_EPOCHS = `
import json, sys, time, massflow as mf
epochs, log, per_epoch = mf.param("epochs", int), mf.param("log", int), mf.param("per_epoch", int)
def work():
    s = 0.0
    for i in range(40000):
        s += (i % 7) * 0.5
    return s
times = []
for e in range(epochs):
    t = time.perf_counter()
    work()
    if log:
        for k in range(per_epoch):
            mf.log_metric(f"m{k}", e * 0.1 + k, step=e)
    times.append(time.perf_counter() - t)
json.dump(times, open(f"out/epochs-{log}.json", "w"))
`;

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'massflow-bench-channel-'));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  mkdirSync(join(dir, 'out'));
  mkdirSync(join(dir, 'pipelines'));
  mkdirSync(join(dir, 'stages'));
  writeFileSync(join(dir, 'points.py'), PY_POINTS);
  writeFileSync(join(dir, 'epochs.py'), PY_EPOCHS);
  writeFileSync(join(dir, 'stages/points.ts'), TS_POINTS);
  writeFileSync(join(dir, 'pipelines/p.yaml'), [
    'name: bench-channel',
    `params: { n: ${POINTS}, epochs: ${EPOCHS}, log: 0, per_epoch: ${PER_EPOCH} }`,
    'stages:',
    '  py: { cmd: [python3, points.py], params: [n], outs: [out/py.txt], cache: false }',
    '  ts: { run: stages/points.ts, params: [n], outs: [out/ts.txt], cache: false }',
    '  epochs: { cmd: [python3, epochs.py], params: [epochs, log, per_epoch], outs: ["out/epochs-${log}.json"], cache: false }',
    '',
  ].join('\n'));
  return dir;
}

/** Runs one stage alone; returns how long the runner took from its start to its end, and the record. */
function runStage(dir: string, stage: string): { stageMs: number; points: number } {
  execFileSync(process.execPath, [join(REPO, 'bin/massflow.js'), 'run', 'pipelines/p.yaml', stage, '-j', '1', '--tracking-uri', 'none'], {
    cwd: dir, env: { ...process.env, CI: '1', NO_COLOR: '1', MASSFLOW_BACKEND: 'cpu' }, stdio: 'ignore',
  });
  const id = readdirSync(join(dir, 'runs')).filter((d) => /^\d{8}-/.test(d)).sort().at(-1)!;
  const rec = JSON.parse(readFileSync(join(dir, 'runs', id, 'run.json'), 'utf8'));
  const points = readFileSync(join(dir, 'runs', id, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean).length;
  return { stageMs: rec.stages[stage].durationMs, points };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const dir = project();
try {
  console.log(`points through the channel: ${POINTS} points, one stage at a time, into runs/<id>/ (run record, offline tracking)`);
  const rows: [string, number, number, number][] = [];
  for (const [stage, label] of [['py', 'Python helper -> events file'], ['ts', 'TS ctx.metric -> IPC']] as const) {
    const r = runStage(dir, stage);
    const emit = Number(readFileSync(join(dir, `out/${stage}.txt`), 'utf8'));
    if (r.points !== POINTS) throw new Error(`${stage}: ${r.points} of ${POINTS} points reached the record`);
    rows.push([label, POINTS / emit, POINTS / (r.stageMs / 1000), r.stageMs]);
  }
  for (const [label, emitRate, carried, ms] of rows) {
    console.log(`  ${label.padEnd(30)} stage emits ${Math.round(emitRate).toLocaleString('en').padStart(10)} points/s; runner carries ${Math.round(carried).toLocaleString('en').padStart(8)} points/s (stage start to end ${(ms / 1000).toFixed(2)} s)`);
  }
  console.log(`  events file / IPC, carried: ${(rows[0]![2] / rows[1]![2]).toFixed(2)}x`);

  console.log(`\nepoch time, ${EPOCHS} epochs of ~10 ms arithmetic, with and without ${PER_EPOCH} points per epoch through the helper:`);
  const times: Record<string, number[]> = {};
  for (const log of [0, 1, 0, 1]) {
    execFileSync(process.execPath, [join(REPO, 'bin/massflow.js'), 'run', 'pipelines/p.yaml', 'epochs', '-j', '1', '--tracking-uri', 'none', '-p', `log=${log}`], {
      cwd: dir, env: { ...process.env, CI: '1', NO_COLOR: '1' }, stdio: 'ignore',
    });
    const t = JSON.parse(readFileSync(join(dir, `out/epochs-${log}.json`), 'utf8')) as number[];
    (times[log] ??= []).push(...t.slice(5)); // the first epochs warm up
  }
  // The helper alone, without a runner reading the file beside it (its own cost, no CPU shared with the runner).
  const alone: Record<string, number[]> = {};
  for (const log of [0, 1, 0, 1]) {
    execFileSync('python3', ['epochs.py'], {
      cwd: dir, stdio: 'ignore',
      env: { ...process.env, PYTHONPATH: join(REPO, 'python'), MASSFLOW_EVENTS: join(dir, 'alone.jsonl'), MASSFLOW_PARAMS: JSON.stringify({ epochs: EPOCHS, log, per_epoch: PER_EPOCH }) },
    });
    (alone[log] ??= []).push(...(JSON.parse(readFileSync(join(dir, `out/epochs-${log}.json`), 'utf8')) as number[]).slice(5));
  }
  console.log(`  helper alone (python3 epochs.py, events file not followed): median ${(median(alone[0]!) * 1000).toFixed(2)} ms without, ${(median(alone[1]!) * 1000).toFixed(2)} ms with: ${(((median(alone[1]!) / median(alone[0]!)) - 1) * 100).toFixed(1)}%`);
  const plain = times[0]!, logged = times[1]!;
  const rate = PER_EPOCH / mean(logged);
  console.log('  inside massflow run (the runner follows the file on the same machine):');
  console.log(`  without the helper: median ${(median(plain) * 1000).toFixed(2)} ms, mean ${(mean(plain) * 1000).toFixed(2)} ms`);
  console.log(`  with the helper:    median ${(median(logged) * 1000).toFixed(2)} ms, mean ${(mean(logged) * 1000).toFixed(2)} ms (${Math.round(rate)} points/s)`);
  console.log(`  slowdown (median): ${(((median(logged) / median(plain)) - 1) * 100).toFixed(1)}%`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
