// Run by hand as `node bench/core/status-phases.mjs DIST PROJECT` (docs/runner-profile.md): one warm
// no-op `status`, done in phases by hand from the built modules, printing each phase's wall and CPU
// milliseconds as JSON. The phases: module loading, spec load, stat walk (the calls the stat cache
// makes), stat cache read, fingerprinting (code digests and the rest of analyze), rendering.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dist, project] = process.argv.slice(2).map((p) => resolve(p));
const phases = {};
let wall = performance.now(), cpu = process.cpuUsage();
const mark = (name) => {
  const w = performance.now(), c = process.cpuUsage();
  phases[name] = { wallMs: +(w - wall).toFixed(1), cpuMs: +((c.user - cpu.user + c.system - cpu.system) / 1000).toFixed(1) };
  wall = w; cpu = c;
};
const imp = (p) => import(pathToFileURL(join(dist, p)).href);

const [{ buildProgram }, common, analyzeMod, format] = await Promise.all([imp('cli/main.js'), imp('cli/common.js'), imp('project/plan-from-disk.js'), imp('report/format.js')]);
await imp('cli/commands/status.js');
void buildProgram;
mark('module loading');

process.chdir(project);
const { project: proj, pipeline } = await common.loadForCommand({}, undefined);
mark('spec load');

const { sources } = (await imp('plan/fingerprint.js')).classifyDeps(pipeline);
let files = 0;
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, e.name);
    if (e.isDirectory()) walk(abs); else { statSync(abs); files++; }
  }
};
for (const s of sources) { const st = statSync(join(project, s), { throwIfNoEntry: false }); if (st?.isDirectory()) walk(join(project, s)); else files++; }
mark('stat walk');

const statDir = proj.layout.statDir;
let bytes = 0;
for (const f of readdirSync(statDir).filter((n) => n.endsWith('.sig'))) bytes += readFileSync(join(statDir, f)).length;
mark('stat cache read');

const analysis = await analyzeMod.planFromDisk(proj, pipeline, new Set(pipeline.stages.map((s) => s.id)), false);
mark('analyze (stat walk + cache read + fingerprinting, again)');

const rows = analysis.plan.map((p) => [p.id, p.decision.kind, '']);
const text = format.table(rows, '').join('\n') + '\n';
mark('rendering');
console.log(JSON.stringify({ files, sigBytes: bytes, stages: pipeline.stages.length, textBytes: text.length, phases }));
