// Benchmark: make-cutouts on a simulated sky (default 600 clusters, 5 bands, 64 px, the main run's
// settings). Simulates first (not timed), then times the cutting: cutouts/s, frames/s, CPU split.
// Usage: npx tsx bench/astro/cutouts.ts [clusters]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import makeCutouts from '../../stages/make-cutouts.js';
import simSky from '../../stages/sim-sky.js';
import { runStageInProcess } from '../../src/stage/testing.js';
import { cpuSeconds, load } from './cpu.js';

const clusters = Number(process.argv[2] ?? 600);
const dir = await mkdtemp(join(tmpdir(), 'bench-cutouts-'));
try {
  await runStageInProcess(simSky, { projectDir: dir, params: { sim: { clusters } }, outs: ['data/sky'] });
  console.log(`make-cutouts bench: ${clusters} clusters x 5 bands at 64 px, load average ${load()}`);
  const c0 = cpuSeconds();
  const t0 = performance.now();
  const rec = await runStageInProcess(makeCutouts, { projectDir: dir, deps: [join(dir, 'data/sky')], params: {}, outs: ['data/cutouts'] });
  const wall = (performance.now() - t0) / 1000;
  const c1 = cpuSeconds();
  const m = (k: string) => rec.metrics.find((x) => x.key === k)?.value ?? NaN;
  console.log(`${m('cutouts.count')} cutouts from ${m('cutouts.frames_read')} frames in ${wall.toFixed(1)} s: ${(m('cutouts.count') / wall).toFixed(1)} cutouts/s (${(5 * m('cutouts.count') / wall).toFixed(0)} single-band cutouts/s), ${(m('cutouts.frames_read') / wall).toFixed(2)} frames/s`);
  console.log(`CPU ${(c1.self - c0.self).toFixed(1)} s in node + ${(c1.children - c0.children).toFixed(1)} s in bzip2; load average after ${load()}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
