// Planning before/after: compiles, fingerprints and decides the same pipeline of N stage instances
// (the one bench/core/runner.ts plans) with two built massflow checkouts, interleaved in one
// process, and prints each one's CPU milliseconds by phase (min and median) and whether every
// fingerprint digest and every decision came out the same. On a loaded machine the minimum is
// the steadier figure.
//   node bench/core/plan-ab.mjs BEFORE_CHECKOUT AFTER_CHECKOUT [N=10000] [REPS=7]
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [before, after, n = '10000', reps = '7'] = process.argv.slice(2);
if (!after) { console.error('usage: node bench/core/plan-ab.mjs BEFORE_CHECKOUT AFTER_CHECKOUT [N] [REPS]'); process.exit(2); }

async function planner(dir) {
  const imp = (p) => import(pathToFileURL(join(resolve(dir), 'dist', p)).href);
  const [{ compilePipeline }, { computeFingerprints }, { decide }, { asDigest }] =
    await Promise.all([imp('pipeline/compile.js'), imp('plan/fingerprint.js'), imp('plan/decide.js'), imp('core/brand.js')]);
  const text = `name: big\nparams: { n: ${n} }\nstages:\n  prep: { cmd: [prep], outs: [data] }\n  a:\n    foreach: { i: "\${range(n)}" }\n    cmd: [work, "\${i}"]\n    deps: [data]\n    outs: ["out/\${i}"]\n`;
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  return () => {
    const t = {};
    let c = cpu();
    const lap = (k) => { const now = cpu(); t[k] = now - c; c = now; };
    const p = compilePipeline({ file: 'big.yaml', text }).pipeline;
    lap('compile');
    const code = new Map(p.stages.map((s) => [s.id, { argv: s.impl.argv, files: {}, kind: 'cmd', shell: false }]));
    const fps = computeFingerprints(p, { code, sourceDeps: new Map(), lockfile: asDigest('0'.repeat(64)), backend: 'cpu' });
    lap('fingerprint');
    const plan = decide(p, new Set(p.stages.map((s) => s.id)), fps, { entries: new Map(), workspace: new Map(), previous: new Map() }, false);
    lap('decide');
    const h = createHash('sha256');
    for (const s of p.stages) h.update(`${s.id} ${fps.get(s.id).digest}\n`);
    for (const x of plan) h.update(`${x.id} ${x.decision.kind}\n`);
    return { t, outcome: h.digest('hex') };
  };
}

const runs = { before: await planner(before), after: await planner(after) };
const samples = { before: [], after: [] };
const outcomes = new Set();
for (let r = 0; r < Number(reps); r++) {
  for (const k of ['before', 'after']) {
    const { t, outcome } = runs[k]();
    samples[k].push(t);
    outcomes.add(outcome);
  }
}
const fmt = (xs, f) => { const v = xs.map(f).sort((a, b) => a - b); return `min ${v[0].toFixed(0)} med ${v[v.length >> 1].toFixed(0)}`; };
for (const k of ['before', 'after']) {
  const s = samples[k];
  console.log(`${n} instances, ${k.padEnd(6)} total ${fmt(s, (x) => x.compile + x.fingerprint + x.decide)} | compile ${fmt(s, (x) => x.compile)} | fingerprint ${fmt(s, (x) => x.fingerprint)} | decide ${fmt(s, (x) => x.decide)} (CPU ms)`);
}
console.log(outcomes.size === 1 ? 'every fingerprint digest and decision: the same' : 'fingerprints or decisions DIFFER between the checkouts');
process.exitCode = outcomes.size === 1 ? 0 : 1;
