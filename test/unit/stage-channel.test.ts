// The pieces a `cmd:` stage reports through: the events-file format, the follower (torn, garbage
// and missing files; every line once), DVCLive's TSV files, stdout patterns, the stage options that
// steer stopping and reading, and GPU devices handed out one stage at a time.
import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEventLine } from '../../src/exec/channel/events-format.js';
import { StageChannel } from '../../src/exec/channel/follow.js';
import { DvcLiveFollower } from '../../src/exec/channel/dvclive.js';
import { stdoutMetricsReader } from '../../src/exec/channel/stdout-metrics.js';
import type { StageReporter } from '../../src/exec/executor.js';
import { gpuDevices } from '../../src/exec/gpus.js';
import { ResourcePool } from '../../src/exec/resources.js';
import { DEFAULT_STDOUT_METRICS, parseStopGrace, stdoutMetricsPattern } from '../../src/pipeline/stage-options.js';

let dir: string;
afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });
const tmp = () => (dir = mkdtempSync(join(tmpdir(), 'massflow-channel-')));

function recorder() {
  const got: string[] = [];
  const report: StageReporter = {
    log: (l) => got.push(`log ${l}`),
    metric: (k, v, s) => got.push(`metric ${k}=${v}@${s ?? '-'}`),
    artifact: (p, n) => got.push(`artifact ${p} ${n ?? '-'}`),
    progress: (d, t) => got.push(`progress ${d}/${t}`),
    warn: (m) => got.push(`warn ${m}`),
  };
  return { got, report };
}

describe('events file format', () => {
  it('reads each message type and says what is wrong with a bad line', () => {
    expect(parseEventLine('{"type":"metric","key":"loss","value":0.5,"step":3,"timestamp":1700000000000}')).toEqual({ ok: true, event: { type: 'metric', key: 'loss', value: 0.5, step: 3, timestamp: 1700000000000 } });
    expect(parseEventLine('{"v":1,"type":"progress","done":2,"total":10}')).toEqual({ ok: true, event: { type: 'progress', done: 2, total: 10 } });
    expect(parseEventLine('{"type":"artifact","path":"a.png"}')).toEqual({ ok: true, event: { type: 'artifact', path: 'a.png', name: undefined } });
    expect(parseEventLine('{"type":"log","line":"hi"}')).toEqual({ ok: true, event: { type: 'log', line: 'hi' } });
    const problem = (l: string, torn = false) => { const r = parseEventLine(l, torn); return r.ok ? 'ok' : r.problem; };
    expect(problem('loss 0.5')).toMatch(/^not JSON \(/);
    expect(problem('{"type":"metric","key":"l","value":1', true)).toBe('torn last line (the stage ended mid-write)');
    expect(problem('[1,2]')).toBe('not a JSON object');
    expect(problem('{"v":2,"type":"log","line":"x"}')).toBe('format version 2; this massflow reads version 1');
    expect(problem('{"type":"metric","key":"l","value":"NaN"}')).toBe(`metric 'l' has no finite number "value"`);
    expect(problem('{"type":"metric","key":"l","value":1,"step":-1}')).toBe(`metric 'l' has a "step" that is not a non-negative integer`);
    expect(problem('{"type":"progress","done":1,"total":0}')).toBe('progress needs numbers "done" >= 0 and "total" > 0');
    expect(problem('{"type":"metrics"}')).toBe('unknown "type" "metrics" (known: metric, progress, artifact, log)');
  });
});

describe('following an events file', () => {
  it('reports every line once across polls, warns about garbage and a torn last line by line number, and survives a missing file', async () => {
    tmp();
    const file = join(dir, 'runs', 'events.jsonl');
    const { got, report } = recorder();
    const ch = new StageChannel({ eventsFile: file, dvcliveDirs: [], projectDir: dir }, report, 10);
    await ch.start(); // the file does not exist yet: nothing, and no crash
    await new Promise((r) => setTimeout(r, 40));
    mkdirSync(join(dir, 'runs'));
    writeFileSync(file, '{"type":"metric","key":"loss","value":1,"step":0}\n{"type":"metric","key":"lo');
    await new Promise((r) => setTimeout(r, 60)); // a poll sees half a line: it waits for the rest
    appendFileSync(file, 'ss","value":0.5,"step":1}\ngarbage\n\n{"type":"progress","done":1,"total":2}\n{"type":"artifact","path":"r/a.png","name":"a"}\n{"type":"metric","key":"x","val');
    await ch.stop();
    expect(got).toEqual([
      'metric loss=1@0',
      'metric loss=0.5@1',
      `warn runs/events.jsonl:3: not JSON (${(() => { try { JSON.parse('garbage'); } catch (e) { return (e as Error).message; } })()}); line skipped: garbage`,
      'progress 1/2',
      `artifact ${join(dir, 'r/a.png')} a`,
      'warn runs/events.jsonl:7: torn last line (the stage ended mid-write); line skipped: {"type":"metric","key":"x","val',
    ]);
    await ch.stop(); // idempotent
    expect(got).toHaveLength(6);
  });

  it('names only the first 20 bad lines and counts the rest', async () => {
    tmp();
    const file = join(dir, 'e.jsonl');
    writeFileSync(file, 'x\n'.repeat(25));
    const { got, report } = recorder();
    const ch = new StageChannel({ eventsFile: file, dvcliveDirs: [], projectDir: dir }, report, 10);
    await ch.start();
    await ch.stop();
    expect(got.filter((g) => g.startsWith('warn e.jsonl:'))).toHaveLength(20);
    expect(got.at(-1)).toBe('warn 5 more bad lines in e.jsonl were skipped');
  });
});

describe('DVCLive files', () => {
  it('streams rows written after the start, keyed by path, and rereads a file DVCLive replaced', async () => {
    tmp();
    const plots = join(dir, 'dvclive', 'plots', 'metrics');
    mkdirSync(join(plots, 'train'), { recursive: true });
    writeFileSync(join(plots, 'acc.tsv'), 'step\tacc\n0\t0.1\n'); // an earlier run's rows
    const f = new DvcLiveFollower(join(dir, 'dvclive'));
    await f.snapshot();
    const bad: string[] = [];
    const poll = (final = false) => f.poll((p, row) => bad.push(row), final);
    expect(await poll()).toEqual([]);
    appendFileSync(join(plots, 'acc.tsv'), '1\t0.2\n');
    writeFileSync(join(plots, 'train', 'loss.tsv'), 'timestamp\tstep\ttrain/loss\n1700000000000\t0\t0.9\n1700000000001\t1\t0.');
    expect(await poll()).toEqual([
      { key: 'acc', value: 0.2, step: 1, timestamp: undefined },
      { key: 'train/loss', value: 0.9, step: 0, timestamp: 1700000000000 },
    ]);
    appendFileSync(join(plots, 'train', 'loss.tsv'), '8\n2\toops\n');
    expect(await poll()).toEqual([{ key: 'train/loss', value: 0.8, step: 1, timestamp: 1700000000001 }]);
    expect(bad).toEqual(['2\toops']);
    // Cleared and written again from step 0 (a new Live()): every row is new.
    rmSync(join(plots, 'acc.tsv'));
    writeFileSync(join(plots, 'acc.tsv'), 'step\tacc\n0\t0.5\n1\t0.6\n2\t0.7\n');
    expect((await poll(true)).map((p) => `${p.key}@${p.step}=${p.value}`)).toEqual(['acc@0=0.5', 'acc@1=0.6', 'acc@2=0.7']);
    expect([...f.keys].sort()).toEqual(['acc', 'train/loss']);
    // A rerun writing exactly the same rows again (same size, same start) is new all the same.
    await new Promise((r) => setTimeout(r, 20));
    rmSync(join(plots, 'acc.tsv'));
    writeFileSync(join(plots, 'acc.tsv'), 'step\tacc\n0\t0.5\n1\t0.6\n2\t0.7\n');
    expect((await poll(true)).map((p) => `${p.key}@${p.step}=${p.value}`)).toEqual(['acc@0=0.5', 'acc@1=0.6', 'acc@2=0.7']);
  });
});

describe('stdout metrics', () => {
  it('reads key: value lines, with step lines setting the step, or a pattern of the stage own', () => {
    const read = stdoutMetricsReader(DEFAULT_STDOUT_METRICS);
    expect(['epoch 1 starting', 'step: 3', 'loss: 0.25', 'val/acc = 9e-1', 'note: fine'].map(read)).toEqual([
      undefined, undefined, { key: 'loss', value: 0.25, step: 3 }, { key: 'val/acc', value: 0.9, step: 3 }, undefined,
    ]);
    const own = stdoutMetricsReader('^epoch (?<step>\\d+) (?<key>\\w+)=(?<value>\\S+)$');
    expect(own('epoch 4 mae=0.125')).toEqual({ key: 'mae', value: 0.125, step: 4 });
    expect(own('epoch 4 mae=high')).toBeUndefined();
  });

  it('checks the options when the spec is compiled', () => {
    expect(stdoutMetricsPattern(true)).toEqual({ ok: true, pattern: DEFAULT_STDOUT_METRICS });
    expect(stdoutMetricsPattern('(?<key>\\w+)')).toEqual({ ok: false, message: 'stdout_metrics needs the named group (?<value>...)' });
    expect(stdoutMetricsPattern('(')).toMatchObject({ ok: false, message: expect.stringMatching(/^stdout_metrics is not a valid regular expression: /) });
    expect([parseStopGrace(undefined), parseStopGrace('30s'), parseStopGrace('500ms'), parseStopGrace('2m'), parseStopGrace(1.5)]).toEqual(
      [10_000, 30_000, 500, 120_000, 1500].map((ms) => ({ ok: true, ms })),
    );
    expect(parseStopGrace('soon')).toEqual({ ok: false, message: `stop_grace 'soon' is not a duration like 30s, 500ms or 2m` });
  });
});

describe('GPU devices', () => {
  const noSmi = () => undefined;
  it('comes from --gpus, MASSFLOW_GPUS, the visible devices, or nvidia-smi -L; none of them: unmanaged', () => {
    expect(gpuDevices(2, {}, noSmi)).toEqual(['0', '1']);
    expect(gpuDevices(0, {}, noSmi)).toEqual([]);
    expect(gpuDevices(undefined, { MASSFLOW_GPUS: '3' }, noSmi)).toEqual(['0', '1', '2']);
    expect(gpuDevices(2, { CUDA_VISIBLE_DEVICES: '4,6,7' }, noSmi)).toEqual(['4', '6']);
    expect(gpuDevices(undefined, {}, noSmi)).toBeUndefined();
    const smi = () => 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-aa)\nGPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-bb)\n';
    expect(gpuDevices(undefined, {}, smi)).toEqual(['0', '1']);
    expect(gpuDevices(undefined, { CUDA_VISIBLE_DEVICES: '1' }, smi)).toEqual(['1']);
    expect(gpuDevices(undefined, {}, () => 'No devices were found\n')).toBeUndefined();
  });

  it('grants each stage its own devices and takes them back', async () => {
    const pool = ResourcePool.forMachine(8, 1e12, ['0', '1', '2']);
    const signal = new AbortController().signal;
    const a = await pool.acquire({ cpu: 1, memoryBytes: 0, gpu: 1 }, signal);
    const b = await pool.acquire({ cpu: 1, memoryBytes: 0, gpu: 2 }, signal);
    const c = await pool.acquire({ cpu: 1, memoryBytes: 0, gpu: 0 }, signal);
    expect([a.devices, b.devices, c.devices]).toEqual([['0'], ['1', '2'], []]);
    const waiting = pool.acquire({ cpu: 1, memoryBytes: 0, gpu: 2 }, signal);
    a.release();
    b.release();
    expect((await waiting).devices).toEqual(['0', '1']);
    expect((await ResourcePool.forMachine(1, 1, undefined).acquire({ cpu: 1, memoryBytes: 0, gpu: 0 }, signal)).devices).toBeUndefined();
  });
});
