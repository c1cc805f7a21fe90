// Benchmark: decoding the real .fits.bz2 frames through the system bzip2 (the path readFitsFile
// takes), in MB/s of decompressed FITS. Usage: npx tsx bench/astro/bz2.ts [frames root]
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { bunzip2File } from '../../src/astro/bz2.js';
import { BANDS, frameRelPath } from '../../src/astro/sdss-archive.js';
import { cpuSeconds, load } from './cpu.js';

const root = process.argv[2] ?? fileURLToPath(new URL('../../../shared/data/sdss_dr12_frames/', import.meta.url));
console.log(`bz2 decode bench, load average ${load()}`);
let bytesIn = 0;
let bytesOut = 0;
const c0 = cpuSeconds();
const t0 = performance.now();
for (let rep = 0; rep < 2; rep++) for (const band of BANDS) {
  const path = `${root}/${frameRelPath(band, { run: 2583, camcol: 2, field: 136 })}`;
  const r = await bunzip2File(path);
  if (!r.ok) throw new Error(r.error.message);
  bytesIn += (await stat(path)).size;
  bytesOut += r.value.length;
}
const wall = (performance.now() - t0) / 1000;
const c1 = cpuSeconds();
const cpu = c1.children - c0.children;
console.log(`10 frames: ${(bytesIn / 1e6).toFixed(1)} MB bz2 -> ${(bytesOut / 1e6).toFixed(1)} MB FITS in ${wall.toFixed(2)} s wall: ${(bytesOut / 1e6 / wall).toFixed(1)} MB/s (${(wall / 10).toFixed(2)} s per frame); bzip2 CPU ${cpu.toFixed(2)} s: ${(bytesOut / 1e6 / cpu).toFixed(1)} MB/s per core`);
