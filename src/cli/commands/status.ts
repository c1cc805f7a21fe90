// `massflow status [PIPELINE] [STAGE...]` and `massflow why STAGE`.
import { planFromDisk, fingerprintAll } from '../../project/plan-from-disk.js';
import { diffFingerprints } from '../../plan/why.js';
import { describeChange, describeRunReason } from '../../report/describe.js';
import { table } from '../../report/format.js';
import { loadForCommand, printWarnings, select, splitArgs, type CommonOptions } from '../common.js';
import { EXIT, UsageError, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../terminal.js';

export async function statusCommand(args: string[], opts: CommonOptions, term: Terminal): Promise<ExitCode> {
  const { spec, stages } = splitArgs(args);
  const loaded = await loadForCommand(opts, spec);
  const { project, pipeline } = loaded;
  printWarnings(term, loaded);
  const analysis = await planFromDisk(project, pipeline, select(pipeline, stages), false);
  const rows = analysis.plan.map((p) => {
    const d = p.decision;
    switch (d.kind) {
      case 'fresh': return [p.id, 'fresh', 'up to date'];
      case 'restore': return d.from === 'remote'
        ? [p.id, 'cached (remote)', `restorable from ${project.remote?.url}: ${d.outs.join(', ')} not in the workspace`]
        : [p.id, 'cached', `restorable: ${d.outs.join(', ')} not in the workspace`];
      case 'run': return [p.id, 'stale', describeRunReason(d.reason)];
    }
  });
  // Frozen stages are never planned; say so rather than leave them out.
  for (const s of pipeline.stages) if (s.frozen) rows.push([s.id, 'frozen', 'never runs (frozen: true)']);
  term.out.write(table(rows, '').join('\n') + '\n');
  if (project.remote?.problem) term.err.write(`remote ${project.remote.url} not consulted: ${project.remote.problem}\n`);
  const n = (k: string) => analysis.plan.filter((p) => p.decision.kind === k).length;
  term.out.write(`${pipeline.name}: ${n('fresh')} fresh, ${n('restore')} restorable from cache, ${n('run')} stale\n`);
  return EXIT.ok;
}

export async function whyCommand(args: string[], opts: CommonOptions, term: Terminal): Promise<ExitCode> {
  const { spec, stages } = splitArgs(args);
  if (stages.length === 0) throw new UsageError('name a stage: massflow why [PIPELINE] STAGE');
  const loaded = await loadForCommand(opts, spec);
  const { project, pipeline } = loaded;
  printWarnings(term, loaded);
  const wanted = pipeline.stages.filter((s) => stages.includes(s.id) || stages.includes(s.name));
  select(pipeline, stages); // reports unknown names
  const { fingerprints } = await fingerprintAll(project, pipeline);
  const lines: string[] = [];
  for (const s of wanted) {
    const fp = fingerprints.get(s.id)!;
    const entry = s.cache ? await project.entries.getComplete(fp.digest) : undefined;
    const prev = await project.fingerprints.get(s.id);
    if (!prev) { lines.push(`${s.id}: never run`); continue; }
    const changes = diffFingerprints(prev, fp.object);
    if (changes.length === 0) {
      lines.push(entry ? `${s.id}: up to date (fingerprint ${fp.digest.slice(0, 12)})` : `${s.id}: unchanged since its last attempt, but no cached result (it failed, was interrupted, or was collected)`);
      continue;
    }
    lines.push(`${s.id}: ${entry ? 'changed since its last run, but this fingerprint is cached (restorable)' : 'stale'}`);
    for (const c of changes) lines.push(`  ${describeChange(c)}`);
  }
  term.out.write(lines.join('\n') + '\n');
  return EXIT.ok;
}
