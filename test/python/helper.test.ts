// The Python helper on its own (python/massflow): outside massflow a script still runs, printing
// what it logs; typed params say which key is wrong; SIGTERM becomes the stop check, or Stopped.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../e2e/rig.js';
import { hasPython3 } from './python-env.js';

if (!hasPython3()) throw new Error('these tests run the Python helper: install python3');

const PYTHONPATH = join(REPO, 'python');
const py = (code: string, env: Record<string, string> = {}) => {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MASSFLOW_')));
  return spawnSync('python3', ['-c', code], { encoding: 'utf8', env: { ...base, PYTHONPATH, ...env } });
};

describe('the Python helper', () => {
  it('runs outside massflow: defaults for params, metrics and progress printed', () => {
    const r = py('import massflow as mf\nprint(mf.inside_massflow(), mf.param("fit.lr", float, default=0.1))\nmf.log_metric("loss", 0.25, step=3)\nmf.progress(1, 4)\nprint(mf.should_stop())');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('False 0.1\nFalse\n');
    expect(r.stderr).toBe('loss: 0.25  (step 3)\nprogress: 1/4\n');
  });

  it('checks typed params and dataclasses, naming the key', () => {
    const env = { MASSFLOW_PARAMS: JSON.stringify({ fit: { lr: 3, epochs: 'ten', tags: ['a'] } }) };
    const r = py(`
import massflow as mf
from dataclasses import dataclass
from typing import List, Optional
print(repr(mf.param("fit.lr", float)), mf.param("fit.tags", List[str]))
for call in (lambda: mf.param("fit.epochs", int), lambda: mf.param("fit.batch", int)):
    try:
        call()
    except mf.ParamError as e:
        print(e)
@dataclass
class Fit:
    lr: float
    tags: list
    seed: Optional[int] = None
    batch: int = 32
print(mf.load_params(Fit, "fit"))
`, env);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe([
      "3.0 ['a']",
      "param 'fit.epochs' must be int, got str 'ten'",
      "param 'fit.batch' is not set (declare it in the stage's params:, or give a default)",
      "Fit(lr=3.0, tags=['a'], seed=None, batch=32)",
      '',
    ].join('\n'));
  });

  it('writes whole JSON lines to MASSFLOW_EVENTS and turns SIGTERM into the stop check, or into Stopped', async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'massflow-helper-'));
    const events = join(dir, 'events.jsonl');
    const run = (code: string) => new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn('python3', ['-u', '-c', code], { env: { ...process.env, PYTHONPATH, MASSFLOW_EVENTS: events } });
      let out = '', sent = false;
      p.stdout.on('data', (c: Buffer) => {
        out += c;
        if (!sent && out.includes('ready\n')) { sent = true; p.kill('SIGTERM'); }
      });
      p.on('exit', (c) => resolve({ code: c, out }));
    });
    const flag = await run('import time, massflow as mf\nmf.log_metric("a", 1, step=0)\nmf.artifact("x.png", name="x")\nprint("ready")\nwhile not mf.should_stop(): time.sleep(0.01)\nprint("stopping cleanly")');
    expect(flag).toEqual({ code: 0, out: 'ready\nstopping cleanly\n' });
    const raised = await run('import time, massflow as mf\nmf.stop_raises()\ntry:\n    print("ready")\n    time.sleep(30)\nexcept mf.Stopped:\n    print("Stopped raised")');
    expect(raised).toEqual({ code: 0, out: 'ready\nStopped raised\n' });
    const lines = readFileSync(events, 'utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).map((l) => JSON.parse(l))).toEqual([
      { type: 'metric', key: 'a', value: 1, step: 0, timestamp: expect.any(Number) },
      { type: 'artifact', path: join(process.cwd(), 'x.png'), name: 'x' },
    ]);
    rmSync(dir, { recursive: true, force: true });
  });
});
