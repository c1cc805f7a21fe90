// The Tracker without a server: validation, the outbox on disk, artifact path rules, redaction,
// the delivery lock, and the fake tracker other modules test with.
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeTracker, flattenParams, normalizeArtifactPath, openTracker, type Tracker } from '../../src/track/index.js';
import { readOutbox } from '../../src/track/outbox.js';
import { acquireLock, stateFileName } from '../../src/track/state.js';

async function offlineTracker(env: Record<string, string> = {}, warnings: string[] = []): Promise<{ t: Tracker; dir: string; runDir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'mf-outbox-'));
  const runDir = join(dir, 'runs', 'r1');
  const r = await openTracker({ projectDir: dir, runId: 'r1', runDir, config: { mode: 'offline' }, experimentName: 'exp', env, onWarning: (w) => warnings.push(w), tuning: { flushIntervalMs: 5 } });
  if (!r.ok) throw new Error(r.error.message);
  return { t: r.value, dir, runDir };
}

describe('artifact paths', () => {
  it('normalizes names under the artifact root and refuses any that escape it', () => {
    expect(normalizeArtifactPath('plots\\loss.png')).toEqual({ ok: true, value: 'plots/loss.png' });
    expect(normalizeArtifactPath('./a//b/../c.txt')).toEqual({ ok: true, value: 'a/c.txt' });
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'C:/x', '.', 'a/..', 'a\0b']) {
      const r = normalizeArtifactPath(bad);
      expect(r.ok, bad).toBe(false);
    }
    expect(normalizeArtifactPath('a/../../x')).toEqual({ ok: false, error: 'artifact path "a/../../x" escapes the run\'s artifact root' });
  });
});

describe('params', () => {
  it('flattens nested params with dots; arrays stay one JSON value', () => {
    expect(flattenParams({ fit: { lr: 3e-4, opt: { name: 'adam' } }, cutout: { bands: ['u', 'g'] }, seed: 7, on: true, none: null }))
      .toEqual({ 'fit.lr': '0.0003', 'fit.opt.name': 'adam', 'cutout.bands': '["u","g"]', seed: '7', on: 'true', none: 'null' });
  });
});

describe('offline Tracker', () => {
  it('records every call as one JSON line with consecutive sequence numbers', async () => {
    const { t, runDir } = await offlineTracker();
    expect(t.startRun('root', { name: 'run' }).ok).toBe(true);
    expect(t.logParams('root', { fit: { lr: 0.1 } }).ok).toBe(true);
    expect(t.logMetric('root', 'loss', NaN, 1, 1234).ok).toBe(true);
    expect(t.logMetric('root', 'loss', Infinity, 2, 1235).ok).toBe(true);
    expect(t.setTags('root', { 'massflow.cache': 'restored' }).ok).toBe(true);
    expect(t.endRun('root', 'FINISHED').ok).toBe(true);
    const summary = await t.close();
    expect([summary.mode, summary.recorded, summary.delivered, summary.pending]).toEqual(['offline', 6, 0, 6]);
    const ops = readOutbox(join(runDir, 'tracking')).entries.map((e) => e.op);
    expect(ops.map((o) => [o.seq, o.op])).toEqual([[1, 'start'], [2, 'params'], [3, 'metric'], [4, 'metric'], [5, 'tags'], [6, 'end']]);
    expect(ops[2]).toMatchObject({ key: 'root', name: 'loss', value: 'NaN', step: 1, t: 1234 });
    expect(ops[3]).toMatchObject({ value: 'Infinity' });
    expect(ops[0]).toMatchObject({ op: 'start', experiment: 'exp', tags: { 'massflow.run_id': 'r1', 'mlflow.source.type': 'LOCAL' } });
  });

  it('refuses what MLflow would refuse, with a reason, and keeps the run going', async () => {
    const { t, runDir } = await offlineTracker();
    const file = join(runDir, 'weights.bin');
    writeFileSync(file, 'w');
    expect(t.logMetric('nope', 'x', 1).ok).toBe(false);
    t.startRun('root', { name: 'r' });
    const dup = t.startRun('root', { name: 'r' });
    expect(!dup.ok && dup.error.kind).toBe('duplicate-run');
    const orphan = t.startRun('fold:0', { parentKey: 'stage:x', name: 'f' });
    expect(!orphan.ok && orphan.error.kind).toBe('unknown-run');
    const badKey = t.logMetric('root', 'a/../b', 1);
    expect(!badKey.ok && badKey.error.kind).toBe('invalid-key');
    const badStep = t.logMetric('root', 'loss', 1, 1.5);
    expect(!badStep.ok && badStep.error.kind).toBe('invalid-value');
    expect(t.logParams('root', { lr: 0.1 }).ok).toBe(true);
    expect(t.logParams('root', { lr: 0.1 }).ok).toBe(true);
    const changed = t.logParams('root', { lr: 0.2, batch: 32 });
    expect(!changed.ok && changed.error.kind).toBe('param-conflict');
    const escape = t.logArtifact('root', file, '../../outside.bin');
    expect(!escape.ok && escape.error).toEqual({ kind: 'bad-artifact-path', message: 'root: artifact path "../../outside.bin" escapes the run\'s artifact root' });
    const missing = t.logArtifact('root', join(runDir, 'absent.bin'));
    expect(!missing.ok && missing.error.kind).toBe('missing-file');
    expect(t.logArtifact('root', file, 'model/./weights.bin').ok).toBe(true);
    await t.close();
    const ops = readOutbox(join(runDir, 'tracking')).entries.map((e) => e.op);
    // Only the valid calls were recorded; batch=32 survived the conflicting lr.
    expect(ops.map((o) => o.op)).toEqual(['start', 'params', 'params', 'artifact']);
    expect(ops[2]).toMatchObject({ params: { batch: '32' } });
    expect(ops[3]).toMatchObject({ path: 'model/weights.bin', local: file });
    expect(t.logMetric('root', 'x', 1).ok).toBe(false);
  });

  it('continues an existing outbox after a crash, skipping a torn final line', async () => {
    const { t, dir, runDir } = await offlineTracker();
    t.startRun('root', { name: 'r' });
    t.logMetric('root', 'loss', 1, 0);
    await t.close();
    appendFileSync(join(runDir, 'tracking', 'ops.jsonl'), '{"seq":3,"t":1,"key":"root","op":"met');
    const again = await openTracker({ projectDir: dir, runId: 'r1', runDir, config: { mode: 'offline' }, experimentName: 'exp' });
    if (!again.ok) throw new Error(again.error.message);
    expect(again.value.logMetric('root', 'loss', 2, 1).ok).toBe(true);
    await again.value.close();
    const { entries, corrupt } = readOutbox(join(runDir, 'tracking'));
    expect(entries.map((e) => [e.op.seq, e.op.op])).toEqual([[1, 'start'], [2, 'metric'], [3, 'metric']]);
    expect(corrupt.length).toBe(1);
  });

  it('keeps credentials out of the outbox: credential-like keys are masked, known secrets replaced', async () => {
    const warnings: string[] = [];
    const env = { MLFLOW_TRACKING_PASSWORD: 'pw-SECRET-123', MLFLOW_TRACKING_TOKEN: 'tok-SECRET-456' };
    const { t, runDir } = await offlineTracker(env, warnings);
    t.startRun('root', { name: 'run pw-SECRET-123' });
    t.logParams('root', { db: { password: 'not-a-known-secret', host: 'h' }, note: 'uses tok-SECRET-456 here' });
    t.setTags('root', { api_key: 'k-1234567', info: 'pw-SECRET-123' });
    await t.close();
    const text = readFileSync(join(runDir, 'tracking', 'ops.jsonl'), 'utf8');
    for (const s of ['pw-SECRET-123', 'tok-SECRET-456', 'not-a-known-secret', 'k-1234567']) expect(text).not.toContain(s);
    const ops = readOutbox(join(runDir, 'tracking')).entries.map((e) => e.op);
    expect(ops[1]).toMatchObject({ params: { 'db.password': '***', 'db.host': 'h', note: 'uses *** here' } });
    expect(warnings.join('\n')).toMatch(/db\.password/);
    expect(warnings.join('\n')).not.toContain('not-a-known-secret');
  });
});

describe('delivery lock', () => {
  it('admits one deliverer per run and server, and takes over a dead owner', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mf-lock-'));
    const first = acquireLock(dir, 'http://h:1');
    expect(first.ok).toBe(true);
    const second = acquireLock(dir, 'http://h:1');
    expect(!second.ok && second.error.pid).toBe(process.pid);
    expect(acquireLock(dir, 'http://other:2').ok).toBe(true);
    if (first.ok) first.value();
    const third = acquireLock(dir, 'http://h:1');
    expect(third.ok).toBe(true);
    if (third.ok) third.value();
    // A lock left by a process that no longer exists.
    const file = join(dir, stateFileName('http://h:1').replace(/\.json$/, '.lock'));
    writeFileSync(file, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), since: 'then' }), { flag: 'wx' });
    expect(acquireLock(dir, 'http://h:1').ok).toBe(true);
  });
});

describe('FakeTracker', () => {
  it('records calls and validates like the real one', async () => {
    const f = new FakeTracker();
    expect(f.startRun('root', { name: 'r' }).ok).toBe(true);
    expect(f.logMetric('root', 'loss', 0.5, 3).ok).toBe(true);
    expect(f.logParams('root', { fit: { lr: 1 } }).ok).toBe(true);
    expect(f.logParams('root', { fit: { lr: 2 } }).ok).toBe(false);
    expect(f.logArtifact('root', '/tmp/x', '../x').ok).toBe(false);
    expect(f.runs.get('root')).toMatchObject({ params: { 'fit.lr': '1' }, metrics: [{ name: 'loss', value: 0.5, step: 3 }] });
    expect((await f.close()).mode).toBe('offline');
  });
});
