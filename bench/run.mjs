// `npm run bench` lists the benchmarks with what each measures; `npm run bench -- NAME [ARGS...]`
// runs one (NAME as listed, e.g. ml/train-speed) under tsx, passing ARGS through. Benchmarks print
// figures and ratios against peers measured in the same run; none of them is a pass/fail test.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// Helpers run by other benchmarks, not entry points.
const HELPERS = new Set(['ml/nets', 'ml/tfjs-speed', 'astro/cpu']);

function benchmarks() {
  return readdirSync(here, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(here, d.name)).filter((f) => f.endsWith('.ts')).map((f) => `${d.name}/${f.slice(0, -3)}`))
    .filter((name) => !HELPERS.has(name))
    .sort();
}

/** The file's leading comment as one line: its first sentence, without a 'Benchmark:' label. */
function summary(name) {
  const lines = readFileSync(join(here, `${name}.ts`), 'utf8').split('\n');
  const text = [];
  for (const l of lines) {
    if (!l.startsWith('//')) break;
    text.push(l.replace(/^\/\/\s?/, '').trim());
  }
  const para = text.join(' ').replace(/^Benchmarks?:\s*/, '').replace(/\s*Usage:.*$/, '');
  const stop = para.search(/(?<!\d)\.(\s|$)/);
  const first = stop > 0 ? para.slice(0, stop + 1) : para;
  return first.length > 110 ? `${first.slice(0, 107)}...` : first;
}

const [name, ...rest] = process.argv.slice(2);
const names = benchmarks();
if (!name) {
  console.log('benchmarks (npm run bench -- NAME [ARGS...]; each file\'s header gives its arguments):');
  for (const n of names) console.log(`  ${n.padEnd(22)} ${summary(n)}`);
  process.exit(0);
}
if (!names.includes(name)) {
  console.error(`unknown benchmark '${name}'; one of: ${names.join(', ')}`);
  process.exit(2);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`), ...rest], { stdio: 'inherit' });
process.exit(r.status ?? 1);
