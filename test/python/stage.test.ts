// Python `cmd:` stages through the real CLI: points and progress streamed through the events file
// reach a real MLflow server while the stage still runs; bad lines are named warnings; stdout
// patterns; stopping is SIGTERM to the group, then SIGKILL after the stage's grace, recorded as
// cancelled with nothing cached; two 1-GPU stages under --gpus 2 get different devices.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { sharedTestServer, type TestServer } from '../track/helpers/server.js';
import { runsOf, waitFor } from '../track/helpers/inspect.js';
import { normalize, REPO, Rig } from '../e2e/rig.js';
import { until } from '../slurm/cluster.js';
import { hasPython3, lastRunId, processesOfRun, recordedPoints, WAIT_FOR_RELEASE } from './python-env.js';

if (!hasPython3()) throw new Error('these tests run Python stages: install python3');


const STREAM = `
import massflow as mf
${WAIT_FOR_RELEASE}
n = mf.param("n", int)
for i in range(n):
    mf.log_metric("loss", 1.0 / (i + 1), step=i)
    mf.progress(i + 1, n)
wait_for("release")
open("out/stream.txt", "w").write("done")
`;

let rig: Rig | undefined;
afterAll(() => rig?.cleanup());

describe('a Python stage with the helper', () => {
  let server: TestServer;
  beforeAll(async () => { server = await sharedTestServer(); }, 180_000);
  afterAll(async () => { await server?.stop(); });

  it('streams 200 points and its progress: MLflow and the run record hold them before the stage ends, exactly once', async () => {
    rig = Rig.create({
      'stream.py': STREAM,
      'pipelines/p.yaml': 'name: py-stream\nparams: { n: 200 }\nstages:\n  stream:\n    cmd: [python3, stream.py]\n    params: [n]\n    outs: [out/stream.txt]\n',
    });
    const run = rig.spawn(['run', 'pipelines/p.yaml', '--tracking-uri', server.url]);
    await until('the run directory', () => existsSync(rig!.path('runs')) && lastRunId(rig!) !== undefined);
    const id = lastRunId(rig)!;
    const history = await waitFor('200 points of loss on the server', async () => {
      const stage = (await runsOf(server.client, 'py-stream', id)).get('stage:stream');
      if (!stage) return undefined;
      const h = await server.client.getMetricHistory(stage.run.info.run_id, 'loss');
      return h.length >= 200 ? h : undefined;
    }, 60_000);
    // The stage has not ended: it waits for the release file.
    const record = JSON.parse(rig.read(`runs/${id}/run.json`));
    expect(record.stages.stream.outcome).toBe('running');
    expect(record.stages.stream.progress).toEqual({ done: 200, total: 200 });
    expect(history.map((m) => m.step).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(recordedPoints(rig, id).filter((p) => p.key === 'loss')).toHaveLength(200);
    rig.write('release', '');
    const r = await run;
    expect(r.exitCode, String(r.stdout) + String(r.stderr)).toBe(0);
    const stage = (await runsOf(server.client, 'py-stream', id)).get('stage:stream')!;
    expect(await server.client.getMetricHistory(stage.run.info.run_id, 'loss')).toHaveLength(200);
    expect(recordedPoints(rig, id).filter((p) => p.key === 'loss')).toHaveLength(200);
  }, 150_000);
});

describe('what a stage reports that cannot be used', () => {
  it('names each garbage or torn line as a warning, logs the good lines once, and reads declared stdout patterns', async () => {
    rig?.cleanup();
    rig = Rig.create({
      'bad.py': `
import os
with open(os.environ["MASSFLOW_EVENTS"], "a") as f:
    f.write('{"type":"metric","key":"loss","value":0.5,"step":0}\\n')
    f.write('garbage\\n')
    f.write('{"v":7,"type":"metric","key":"loss","value":0.4,"step":1}\\n')
    f.write('{"type":"metric","key":"loss","value":0.3,"step":2}\\n')
print("step: 4")
print("acc: 0.75")
print("not a metric: at all")
with open(os.environ["MASSFLOW_EVENTS"], "a") as f:
    f.write('{"type":"metric","key":"loss","val')
open("out.txt", "w").write("x")
`,
      'pipelines/p.yaml': 'name: py-bad\nstages:\n  bad:\n    cmd: [python3, bad.py]\n    outs: [out.txt]\n    stdout_metrics: true\n',
    });
    const r = await rig.run(['run', 'pipelines/p.yaml']);
    expect(r.code, r.stderr).toBe(0);
    const id = lastRunId(rig)!;
    const notJson = (() => { try { JSON.parse('garbage'); return ''; } catch (e) { return (e as Error).message; } })();
    expect(normalize(r.stdout).split('\n').slice(0, 6)).toEqual([
      'massflow run RUNID · py-bad · 1 stages: 1 to run, 0 to restore, 0 fresh · local, jobs N',
      'start     bad               never run',
      `warning   bad               runs/RUNID/events/bad.jsonl:2: not JSON (${notJson}); line skipped: garbage`,
      'warning   bad               runs/RUNID/events/bad.jsonl:3: format version 7; this massflow reads version 1; line skipped: {"v":7,"type":"metric","key":"loss","value":0.4,"step":1}',
      'warning   bad               runs/RUNID/events/bad.jsonl:5: torn last line (the stage ended mid-write); line skipped: {"type":"metric","key":"loss","val',
      'ran       bad               Ns',
    ]);
    const points = recordedPoints(rig, id).map((p) => `${p.key}@${p.step}=${p.value}`).sort();
    expect(points).toEqual(['acc@4=0.75', 'loss@0=0.5', 'loss@2=0.3']);
    expect(JSON.parse(rig.read(`runs/${id}/run.json`)).stages.bad.warnings).toHaveLength(3);
  }, 60_000);
});

describe('stopping', () => {
  it('SIGTERMs the group: a stage using the helper leaves its loop, one ignoring SIGTERM is killed after its grace; both cancelled, nothing cached', async () => {
    rig?.cleanup();
    rig = Rig.create({
      'polite.py': `
import os, time, massflow as mf
open("started-polite", "w").close()
step = 0
while not mf.should_stop():
    mf.log_metric("tick", step, step=step)
    step += 1
    time.sleep(0.05)
print("stop requested at step", step, flush=True)
os.makedirs("out", exist_ok=True)
open("out/polite.txt", "w").write("partial")
`,
      'stubborn.py': `
import signal, subprocess, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen(["sleep", "300"])  # a process of its own, in the stage's group
open("started-stubborn", "w").close()
while True:
    time.sleep(1)
`,
      'pipelines/p.yaml': [
        'name: py-stop',
        'stages:',
        '  polite: { cmd: [python3, polite.py], outs: [out/polite.txt] }',
        '  stubborn: { cmd: [python3, stubborn.py], outs: [out/stubborn.txt], stop_grace: 1500ms }',
        '',
      ].join('\n'),
    });
    const run = rig.spawn(['run', 'pipelines/p.yaml', '-j', '2']);
    await until('both stages started', () => rig!.exists('started-polite') && rig!.exists('started-stubborn'));
    const id = lastRunId(rig)!;
    const t0 = Date.now();
    run.kill('SIGINT');
    const r = await run;
    const stopMs = Date.now() - t0;
    expect(r.exitCode, String(r.stdout) + String(r.stderr)).toBe(130);
    // The stubborn stage held the run until its grace ran out, not much longer.
    expect(stopMs).toBeGreaterThanOrEqual(1400);
    expect(stopMs).toBeLessThan(10_000);
    const out = normalize(String(r.stdout));
    expect(out).toContain('cancelled polite            stopped; nothing committed');
    expect(out).toContain('cancelled stubborn          stopped; nothing committed');
    expect(rig.read(`runs/${id}/logs/polite.log`)).toMatch(/^stop requested at step \d+$/m);
    const record = JSON.parse(rig.read(`runs/${id}/run.json`));
    expect([record.stages.polite.outcome, record.stages.stubborn.outcome]).toEqual(['cancelled', 'cancelled']);
    expect(processesOfRun(id)).toEqual([]);
    // Nothing cached: both still need to run.
    const status = await rig.run(['status', 'pipelines/p.yaml']);
    expect(status.stdout).toBe('polite    stale  never run\nstubborn  stale  never run\npy-stop: 0 fresh, 0 restorable from cache, 2 stale\n');
  }, 60_000);
});

describe('GPUs', () => {
  it('gives two 1-GPU stages under --gpus 2 different devices at the same time, and a CPU stage none', async () => {
    rig?.cleanup();
    const stage = (name: string) => `
import os, time
${WAIT_FOR_RELEASE}
open("started-${name}", "w").close()
wait_for("release")
os.makedirs("out", exist_ok=True)
open("out/${name}.txt", "w").write(repr(os.environ.get("CUDA_VISIBLE_DEVICES")))
`;
    rig = Rig.create({
      'a.py': stage('a'), 'b.py': stage('b'), 'c.py': stage('c'),
      'pipelines/p.yaml': [
        'name: py-gpu',
        'stages:',
        '  a: { cmd: [python3, a.py], outs: [out/a.txt], resources: { gpu: 1 } }',
        '  b: { cmd: [python3, b.py], outs: [out/b.txt], resources: { gpu: 1 } }',
        '  c: { cmd: [python3, c.py], outs: [out/c.txt] }',
        '',
      ].join('\n'),
    });
    const run = rig.spawn(['run', 'pipelines/p.yaml', '-j', '3', '--gpus', '2']);
    // All three run at once: each holds its device while the others start.
    await until('all three stages started', () => ['a', 'b', 'c'].every((s) => rig!.exists(`started-${s}`)));
    rig.write('release', '');
    const r = await run;
    expect(r.exitCode, String(r.stdout) + String(r.stderr)).toBe(0);
    const seen = ['a', 'b'].map((s) => rig!.read(`out/${s}.txt`)).sort();
    expect(seen).toEqual(["'0'", "'1'"]);
    expect(rig.read('out/c.txt')).toBe("''");
    const starts = String(r.stdout).split('\n').filter((l) => l.startsWith('start')).sort();
    expect(starts.map((l) => l.replace(/gpu [01]/, 'gpu N'))).toEqual([
      'start     a                 never run [gpu N]',
      'start     b                 never run [gpu N]',
      'start     c                 never run [no gpu]',
    ]);
    const record = JSON.parse(rig.read(`runs/${lastRunId(rig)}/run.json`));
    expect([record.stages.a.devices, record.stages.b.devices].flat().sort()).toEqual(['0', '1']);
    expect(record.stages.c.devices).toEqual([]);
  }, 60_000);
});

describe('examples/python-train', () => {
  it('runs as shipped: data, then a training script streaming its curves, then an lr sweep sharing the data', async () => {
    rig?.cleanup();
    rig = Rig.create();
    cpSync(join(REPO, 'examples/python-train'), rig.path('examples/python-train'), { recursive: true });
    const r = await rig.run(['run', 'examples/python-train/pipeline.yaml', '-p', 'train.epochs=4']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const id = lastRunId(rig)!;
    const points = recordedPoints(rig, id);
    expect(points.filter((p) => p.key === 'train/loss').map((p) => p.step)).toEqual([0, 1, 2, 3]);
    expect(points.filter((p) => p.key === 'val/loss')).toHaveLength(4);
    expect(points.find((p) => p.key === 'val_mse')?.value).toBeGreaterThan(0);
    const record = JSON.parse(rig.read(`runs/${id}/run.json`));
    expect(record.stages.train.progress).toEqual({ done: 4, total: 4 });
    expect(record.stages.train.artifacts).toEqual([{ path: rig.path('models/python-train/model.json'), name: null }]);
    const sweep = await rig.run(['sweep', 'examples/python-train/lr.yaml', '--dry-run']);
    expect(sweep.code, sweep.stdout + sweep.stderr).toBe(0);
    expect(sweep.stdout).toContain('3 trials');
  }, 120_000);
});
