// Benchmark: the sim-sky stage with its default params (600 clusters, 5 bands), as the main run uses it.
// Prints wall time, CPU time (this process and the bzip2 processes), fields, frames and bytes written.
// Usage: npx tsx bench/astro/sim-sky.ts [clusters]
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import simSky from '../../stages/sim-sky.js';
import { runStageInProcess } from '../../src/stage/testing.js';
import { cpuSeconds, load } from './cpu.js';

async function du(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}

const clusters = Number(process.argv[2] ?? 600);
const dir = await mkdtemp(join(tmpdir(), 'bench-sim-'));
try {
  console.log(`sim-sky bench: ${clusters} clusters, 5 bands, ${availableParallelism()} cores, load average ${load()}`);
  const c0 = cpuSeconds();
  const t0 = performance.now();
  const rec = await runStageInProcess(simSky, { projectDir: dir, params: { sim: { clusters } }, outs: ['data/sky'] });
  const wall = (performance.now() - t0) / 1000;
  const c1 = cpuSeconds();
  const m = (k: string) => rec.metrics.find((x) => x.key === k)?.value;
  console.log(`fields ${m('sim.fields')}, frames ${m('sim.frames')}, ${(await du(join(dir, 'data/sky')) / 1e6).toFixed(0)} MB written`);
  console.log(`wall ${wall.toFixed(1)} s; CPU ${(c1.self - c0.self).toFixed(1)} s in node + ${(c1.children - c0.children).toFixed(1)} s in bzip2; load average after ${load()}`);
  console.log(`floor ${m('sim.mae_floor_dex')?.toFixed(4)} dex, in-cutout floor ${m('sim.mae_floor_in_cutout_dex')?.toFixed(4)} dex, richness baseline ${m('sim.mae_richness_baseline_dex')?.toFixed(4)} dex`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
