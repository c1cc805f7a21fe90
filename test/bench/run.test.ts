// `npm run bench`'s entry point: the list names every benchmark file (and no helper), and an unknown
// name is a one-line usage error.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const run = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bench/run.mjs'), ...args], { encoding: 'utf8' });

describe('bench/run.mjs', () => {
  it('lists every benchmark with a summary line, helpers left out', () => {
    const r = run();
    expect(r.status).toBe(0);
    const listed = r.stdout.split('\n').slice(1).filter(Boolean).map((l) => l.trim().split(/\s+/)[0]);
    const files = readdirSync(join(root, 'bench'), { withFileTypes: true }).filter((d) => d.isDirectory())
      .flatMap((d) => readdirSync(join(root, 'bench', d.name)).filter((f) => f.endsWith('.ts')).map((f) => `${d.name}/${f.slice(0, -3)}`));
    expect(listed).toEqual(files.filter((f) => !['ml/nets', 'ml/tfjs-speed', 'astro/cpu'].includes(f)).sort());
    expect(r.stdout).toMatch(/ml\/train-speed\s+Training speed of the pipeline's network 1/);
    expect(r.stdout).not.toMatch(/ Benchmark:/);
  });

  it('rejects an unknown name with one line and exit code 2', () => {
    const r = run('ml/no-such-bench');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^unknown benchmark 'ml\/no-such-bench'; one of: .*ml\/train-speed/);
  });

  it('runs a named benchmark and passes its arguments and exit status through', () => {
    // richness-baseline on a file that does not exist fails inside the benchmark: status 1, not 2.
    const r = run('ml/richness-baseline', join(root, 'no-such-labelled.csv'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no-such-labelled.csv');
  });
});
