#!/usr/bin/env node
// Rewrites test/durations.json from vitest's results cache of the last `npm test` here (or from the
// results.json files named as arguments, taking each file's longest time). test/sequencer.ts starts
// the longest files first with it, so a fresh clone (which has no cache) does not leave one worker
// idle at the end while the other runs a minutes-long file it started last.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const cacheRoot = 'node_modules/.vite/vitest';
const sources = process.argv.length > 2
  ? process.argv.slice(2)
  : existsSync(cacheRoot) ? readdirSync(cacheRoot).map((d) => join(cacheRoot, d, 'results.json')).filter((f) => existsSync(f)) : [];
if (sources.length === 0) {
  console.error('no vitest results cache here: run `npm test` first, or name results.json files');
  process.exit(2);
}
const longest = new Map();
for (const file of sources) {
  for (const [key, { duration }] of JSON.parse(readFileSync(file, 'utf8')).results) {
    const path = key.replace(/^[^:]*:/, '');
    if (existsSync(path)) longest.set(path, Math.max(longest.get(path) ?? 0, duration));
  }
}
const seconds = Object.fromEntries([...longest].sort((a, b) => b[1] - a[1]).map(([p, ms]) => [p, Math.round(ms / 100) / 10]));
writeFileSync('test/durations.json', `${JSON.stringify(seconds, null, 1)}\n`);
console.log(`test/durations.json: ${longest.size} test files from ${sources.length} results file(s)`);
