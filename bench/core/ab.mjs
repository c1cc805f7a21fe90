// Before/after on a loaded machine: runs the same warm no-op commands with two massflow checkouts
// (each built), interleaved, and prints each one's median wall and CPU seconds and peak RSS, with
// `node -e 0` as the floor. Absolute times drift with the load; the interleaving keeps the ratio.
//   node bench/core/ab.mjs BEFORE_CHECKOUT AFTER_CHECKOUT PROJECT [REPS=7]
// PROJECT is a project both have run once (e.g. the 10k-file project bench/core/runner.ts makes).
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const [before, after, project, reps = '7'] = process.argv.slice(2);
if (!project) { console.error('usage: node bench/core/ab.mjs BEFORE_CHECKOUT AFTER_CHECKOUT PROJECT [REPS]'); process.exit(2); }

const sample = (argv) => {
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'MFTIME %U %S %M', process.execPath, ...argv], { cwd: resolve(project), encoding: 'utf8', env: { ...process.env, CI: '1', NO_COLOR: '1' } });
  const wall = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}\n${r.stderr}`);
  const m = /MFTIME (\S+) (\S+) (\d+)/.exec(r.stderr);
  return { wall, cpu: Number(m[1]) + Number(m[2]), rss: Number(m[3]) / 1024 };
};
const cmds = {
  'node -e 0': ['-e', '0'],
  ...Object.fromEntries([['before', before], ['after', after]].flatMap(([label, dir]) => [
    [`${label} status`, [join(resolve(dir), 'bin/massflow.js'), 'status']],
    [`${label} run`, [join(resolve(dir), 'bin/massflow.js'), 'run', '-j', '2']],
  ])),
};
const samples = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
for (const argv of Object.values(cmds)) sample(argv); // warm both checkouts' compiled-spec caches
for (let i = 0; i < Number(reps); i++) for (const [k, argv] of Object.entries(cmds)) samples[k].push(sample(argv));
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [k, s] of Object.entries(samples)) {
  console.log(`${k.padEnd(16)} wall ${med(s.map((x) => x.wall)).toFixed(3)} s  CPU ${med(s.map((x) => x.cpu)).toFixed(3)} s  peak RSS ${med(s.map((x) => x.rss)).toFixed(0)} MiB`);
}
