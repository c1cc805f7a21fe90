// `massflow push [PIPELINE] [RUN|STAGE...]` and `massflow pull [PIPELINE] [STAGE...]`.
import type { CacheEntry } from '../../cache/entries.js';
import type { Project } from '../../project/open.js';
import { fingerprintAll } from '../../project/plan-from-disk.js';
import { entriesOfRuns } from '../../run/remote-push.js';
import { targetOf, type RemoteCache } from '../../remote/remote-cache.js';
import { progressBar, pullLines, pushLines } from '../../report/remote-view.js';
import { loadForCommand, printCrashCheck, select, splitArgs, type CommonOptions } from '../common.js';
import { EXIT, UsageError, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../terminal.js';
import type { Pipeline } from '../../pipeline/model.js';

export interface RemoteCommandOptions extends CommonOptions { remote?: string; all?: boolean }

const RUN_ID = /^\d{8}-\d{6}-[0-9a-f]{6}$/;

function needRemote(project: Project): RemoteCache {
  if (!project.remote) throw new UsageError('no remote cache: add `remote: s3://BUCKET/PREFIX` to the pipeline, or pass --remote s3://BUCKET/PREFIX (or set MASSFLOW_REMOTE)');
  return project.remote;
}

/** The local entries a push names: runs' stages, the current fingerprints of stages, or everything. */
async function entriesToPush(project: Project, pipeline: Pipeline, runs: string[], stages: string[], all: boolean): Promise<CacheEntry[]> {
  if (all) {
    const out: CacheEntry[] = [];
    for await (const e of project.entries.list()) out.push(e);
    return out;
  }
  const { entries, unknown } = await entriesOfRuns(project, runs, false);
  if (unknown.length) throw new UsageError(`no run record for ${unknown.join(', ')} under runs/`);
  if (stages.length || !runs.length) {
    const selected = select(pipeline, stages);
    const { fingerprints } = await fingerprintAll(project, pipeline);
    for (const s of pipeline.stages) {
      if (!selected.has(s.id) || !s.cache) continue;
      // Not getComplete: the push checks each object it needs (and names one the cache lacks),
      // and skips all of them for an entry the remote already has.
      const e = await project.entries.get(fingerprints.get(s.id)!.digest);
      if (e && !entries.some((x) => x.fingerprint === e.fingerprint)) entries.push(e);
    }
  }
  return entries;
}

export async function pushCommand(args: string[], opts: RemoteCommandOptions, term: Terminal): Promise<ExitCode> {
  const { spec, stages } = splitArgs(args.filter((a) => !RUN_ID.test(a)));
  const { project, pipeline } = await loadForCommand(opts, spec);
  printCrashCheck(term, project);
  const remote = needRemote(project);
  const entries = await entriesToPush(project, pipeline, args.filter((a) => RUN_ID.test(a)), stages, Boolean(opts.all));
  const bar = progressBar(term.err, term.live);
  const report = await remote.push(entries, bar.update);
  bar.end();
  term.out.write(pushLines(report, remote.url, term.style).join('\n') + '\n');
  return report.problems.length || report.unreachable ? EXIT.stageFailed : EXIT.ok;
}

export async function pullCommand(args: string[], opts: RemoteCommandOptions, term: Terminal): Promise<ExitCode> {
  const { spec, stages } = splitArgs(args);
  const { project, pipeline } = await loadForCommand(opts, spec);
  printCrashCheck(term, project);
  const remote = needRemote(project);
  const selected = select(pipeline, stages);
  const { fingerprints } = await fingerprintAll(project, pipeline);
  const targets = pipeline.stages.filter((s) => selected.has(s.id) && s.cache).map((s) => targetOf(s, fingerprints.get(s.id)!.digest));
  const bar = progressBar(term.err, term.live);
  const report = await remote.pull(targets, bar.update);
  bar.end();
  term.out.write(pullLines(report, remote.url, term.style).join('\n') + '\n');
  return report.problems.length || report.unreachable || report.corrupt.length ? EXIT.stageFailed : EXIT.ok;
}
