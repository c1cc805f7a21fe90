#!/usr/bin/env node
// Smoke pipeline's command stage: column statistics of a CSV, written as JSON (argv: in out).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

const [input, output] = process.argv.slice(2);
if (!input || !output) { console.error('usage: smoke-stats.mjs IN.csv OUT.json'); process.exit(2); }
const [header, ...rows] = readFileSync(input, 'utf8').trim().split('\n');
const cols = header.split(',');
const stats = {};
cols.forEach((c, j) => {
  const v = rows.map((r) => Number(r.split(',')[j]));
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  stats[c] = { mean, min: Math.min(...v), max: Math.max(...v) };
});
mkdirSync(dirname(output), { recursive: true });
writeFileSync(output, JSON.stringify({ rows: rows.length, columns: stats }, null, 2) + '\n');
console.log(`stats of ${rows.length} rows written to ${output}`);
