// Metric points per second into a local MLflow server: massflow's Tracker (outbox on disk, then
// background delivery) and its bare REST client, against the official Python client's log_batch,
// on the same server in the same run. Prints the figures and the ratio, and the ceiling: the
// server's sqlite store alone, without HTTP, which no client can beat.
//
//   node --import tsx bench/mlflow/points.ts [POINTS]   (default 100000; env BENCH_ROUNDS=2, BENCH_PORT=5987, BENCH_WORKERS=1)
//
// Needs the pinned mlflow venv (`npm run setup`) or MASSFLOW_MLFLOW_VENV.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import PQueue from 'p-queue';
import { mlflowDown, mlflowUp, openTracker, resolveTrackingConfig, MLFLOW_VERSION, VENV_DIR } from '../../src/track/index.js';
import { createClient } from '../../src/track/client-factory.js';
import { chunkBatch, type WireMetric } from '../../src/track/mlflow/index.js';
import { venvBin } from '../../src/track/server/venv.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const VENV = process.env.MASSFLOW_MLFLOW_VENV ?? join(REPO, VENV_DIR);
const POINTS = Number(process.argv[2] ?? 100_000);
const KEYS = 10;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

const PYTHON_BENCH = `
import json, sys, time
from mlflow import MlflowClient
from mlflow.entities import Metric
uri, n, keys = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = MlflowClient(uri)
exp = c.get_experiment_by_name("bench-python") or c.get_experiment(c.create_experiment("bench-python"))
run = c.create_run(exp.experiment_id)
now = int(time.time() * 1000)
metrics = [Metric(f"m{i % keys}", float(i), now, i // keys) for i in range(n)]
t0 = time.perf_counter()
c.log_batch(run.info.run_id, metrics=metrics)  # the client splits into 1000-point requests
dt = time.perf_counter() - t0
print(json.dumps({"seconds": dt, "run_id": run.info.run_id}))
`;

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** The store alone, in-process, no HTTP: the ceiling any client of this server can reach. */
const STORE_BENCH = `
import json, sys, tempfile, time
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
from mlflow.entities import Metric
n, keys = int(sys.argv[1]), int(sys.argv[2])
d = tempfile.mkdtemp()
s = SqlAlchemyStore(f"sqlite:///{d}/m.db", f"{d}/a")
rid = s.create_run(s.create_experiment("e"), "u", 0, [], "r").info.run_id
now = int(time.time() * 1000)
metrics = [Metric(f"m{i % keys}", float(i), now, i // keys) for i in range(n)]
t0 = time.perf_counter()
for i in range(0, n, 1000):
    s.log_batch(rid, metrics[i:i + 1000], [], [])
print(json.dumps({"seconds": time.perf_counter() - t0}))
`;

type Bench = { name: string; run: () => Promise<number> };

async function main(): Promise<void> {
  const project = mkdtempSync(join(tmpdir(), 'massflow-bench-mlflow-'));
  const workers = Number(process.env.BENCH_WORKERS ?? 1);
  const up = await mlflowUp(project, { port: Number(process.env.BENCH_PORT ?? 5987), venvDir: VENV, createVenv: false, workers });
  if (!up.ok) throw new Error(`${up.error.message} (create the venv with \`npm run setup\`)`);
  const url = up.value.url;
  const cfg = resolveTrackingConfig({ env: {}, flags: { uri: url } });
  if (!cfg.ok || cfg.value.mode !== 'server') throw new Error('config');
  const config = cfg.value;
  const client = createClient(config.server);
  const now = Date.now();
  let round = 0;

  const benches: Bench[] = [
    {
      // The official client's log_batch: it splits into 1000-point requests, sent one after another.
      name: 'python mlflow MlflowClient.log_batch',
      run: async () => {
        const py = await execa(venvBin(VENV, 'python'), ['-c', PYTHON_BENCH, url, String(POINTS), String(KEYS)], { env: { MLFLOW_TRACKING_URI: url } });
        const out = JSON.parse(py.stdout.trim().split('\n').pop()!) as { seconds: number; run_id: string };
        await check(client, out.run_id, POINTS / KEYS);
        return out.seconds;
      },
    },
    {
      // What a run does: every point to the outbox (fsync'd), delivered in the background; timed
      // from the first logMetric until close() reports nothing pending.
      name: 'massflow Tracker (outbox + delivery)',
      run: async () => {
        round += 1;
        const runId = `bench-${round}`;
        const runDir = join(project, 'runs', runId);
        mkdirSync(runDir, { recursive: true });
        const opened = await openTracker({ projectDir: project, runId, runDir, config, experimentName: 'bench-massflow' });
        if (!opened.ok) throw new Error(opened.error.message);
        const t = opened.value;
        t.startRun('root', { name: runId });
        const t0 = performance.now();
        for (let i = 0; i < POINTS; i++) {
          t.logMetric('root', `m${i % KEYS}`, i, Math.floor(i / KEYS), now);
          // A training loop yields between steps; so does this one, every 1000 points.
          if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
        }
        const summary = await t.close({ flushTimeoutMs: 600_000 });
        const seconds = (performance.now() - t0) / 1000;
        if (summary.pending !== 0) throw new Error(`tracker left ${summary.pending} ops pending: ${summary.lastError}`);
        const exp = (await client.getExperimentByName('bench-massflow'))!;
        const run = (await client.searchAllRuns({ experimentIds: [exp.experiment_id], filter: `tags.\`massflow.run_id\` = '${runId}'` }))[0]!;
        await check(client, run.info.run_id, POINTS / KEYS);
        return seconds;
      },
    },
    {
      name: 'massflow MlflowClient.logBatch, 4 in flight',
      run: async () => {
        const exp = await client.getOrCreateExperiment('bench-client');
        const run = await client.createRun({ experimentId: exp.experiment_id });
        const metrics: WireMetric[] = Array.from({ length: POINTS }, (_, i) => ({ key: `m${i % KEYS}`, value: i, timestamp: now, step: Math.floor(i / KEYS) }));
        const t0 = performance.now();
        const q = new PQueue({ concurrency: 4 });
        for (const b of chunkBatch({ metrics, params: [], tags: [] })) void q.add(() => client.logBatch(run.info.run_id, b));
        await q.onIdle();
        const seconds = (performance.now() - t0) / 1000;
        await check(client, run.info.run_id, POINTS / KEYS);
        return seconds;
      },
    },
  ];

  const best = new Map<string, number>();
  let store = Infinity;
  try {
    console.log(`MLflow ${MLFLOW_VERSION} at ${url} (sqlite, ${workers} worker${workers === 1 ? '' : 's'}); ${fmt(POINTS)} points over ${KEYS} metric keys per client; ${ROUNDS} interleaved rounds, best of each`);
    console.log(`${cpus().length} CPUs, load average at start ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    for (let r = 0; r < ROUNDS; r++) {
      for (const b of benches) {
        const seconds = await b.run();
        console.log(`  round ${r + 1}: ${b.name.padEnd(44)} ${seconds.toFixed(2)} s`);
        best.set(b.name, Math.min(best.get(b.name) ?? Infinity, seconds));
      }
    }
    const st = await execa(venvBin(VENV, 'python'), ['-c', STORE_BENCH, String(POINTS), String(KEYS)]);
    store = (JSON.parse(st.stdout.trim().split('\n').pop()!) as { seconds: number }).seconds;
  } finally {
    await client.close();
    await mlflowDown(project);
    rmSync(project, { recursive: true, force: true });
  }

  const pyRate = POINTS / best.get(benches[0]!.name)!;
  console.log(`load average at end ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  for (const b of benches) {
    const rate = POINTS / best.get(b.name)!;
    console.log(`${b.name.padEnd(46)} ${fmt(rate).padStart(8)} points/s   x${(rate / pyRate).toFixed(2)} vs python`);
  }
  console.log(`${'(ceiling: the sqlite store alone, no HTTP)'.padEnd(46)} ${fmt(POINTS / store).padStart(8)} points/s`);
}

async function check(client: ReturnType<typeof createClient>, runId: string, perKey: number): Promise<void> {
  const n = (await client.getMetricHistory(runId, 'm0')).length;
  if (n !== perKey) throw new Error(`run ${runId}: expected ${perKey} points for m0, found ${n}`);
}

await main();
