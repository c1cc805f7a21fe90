// `massflow gc`: removes cache entries and objects that neither recent runs nor the current state
// of any stage reference.
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../../core/brand.js';
import type { CacheEntry } from '../../cache/entries.js';
import { digestOf } from '../../cache/canonical.js';
import { LockManager } from '../../cache/locks.js';
import { fmtBytes } from '../../report/format.js';
import { readRunRecord } from '../../record/run-record.js';
import { layoutFrom, printCrashCheck, type CommonOptions } from '../common.js';
import { openProject } from '../../project/open.js';
import { pruneCompiledSpecs } from '../../project/load.js';
import { compiledDir } from '../../project/layout.js';
import { EXIT, UsageError, type ExitCode } from '../exit-codes.js';
import type { Terminal } from '../terminal.js';
import { positiveInt } from './run.js';

/** Objects younger than this may belong to a run committing right now (default for --min-age). */
const GRACE_S = 3600;

export async function gcCommand(opts: CommonOptions & { keepRuns?: string; dryRun?: boolean; minAge?: string }, term: Terminal): Promise<ExitCode> {
  const layout = layoutFrom(opts);
  const project = openProject(layout);
  printCrashCheck(term, project);
  const keepRuns = positiveInt(opts.keepRuns, '--keep-runs') ?? 10;
  if (keepRuns < 1) throw new UsageError('--keep-runs must be at least 1');
  const GRACE_MS = (positiveInt(opts.minAge, '--min-age') ?? GRACE_S) * 1000;
  const keepFps = new Set<string>();
  // The latest fingerprint of every stage (what `status` calls fresh) ...
  for (const f of await readdir(layout.fingerprintsDir).catch(() => [] as string[])) {
    try {
      const fpObj = JSON.parse(await readFile(join(layout.fingerprintsDir, f), 'utf8'));
      keepFps.add(digestOf(fpObj));
    } catch { /* unreadable state is not a reason to keep anything */ }
  }
  // ... and every stage of the most recent runs.
  const runIds = (await readdir(layout.runsDir).catch(() => [] as string[])).filter((r) => !r.startsWith('.')).sort().slice(-keepRuns);
  for (const id of runIds) {
    const rec = await readRunRecord(layout.runsDir, id);
    for (const s of Object.values(rec?.stages ?? {})) keepFps.add(s.fingerprint);
  }
  const keepObjects = new Set<Digest>();
  let removedEntries = 0, keptEntries = 0;
  const entries: CacheEntry[] = [];
  for await (const e of project.entries.list()) entries.push(e);
  for (const e of entries) {
    if (!keepFps.has(e.fingerprint)) {
      removedEntries++;
      if (!opts.dryRun) await project.entries.remove(e.fingerprint);
      continue;
    }
    keptEntries++;
    for (const o of Object.values(e.outs)) {
      keepObjects.add(o.digest);
      if (o.kind === 'dir') {
        for (const f of await project.objects.readManifest(o.digest).catch(() => [])) keepObjects.add(f.digest);
      }
    }
  }
  let removedObjects = 0, removedBytes = 0, keptBytes = 0;
  const now = Date.now();
  for await (const d of project.objects.listObjects()) {
    const p = project.objects.objectPath(d);
    const st = await stat(p).catch(() => undefined);
    if (!st) continue;
    if (keepObjects.has(d) || now - st.mtimeMs < GRACE_MS) { keptBytes += st.size; continue; }
    removedObjects++;
    removedBytes += st.size;
    if (!opts.dryRun) await rm(p, { force: true });
  }
  for (const t of await readdir(project.objects.tmpDir).catch(() => [] as string[])) {
    const p = join(project.objects.tmpDir, t);
    const st = await stat(p).catch(() => undefined);
    if (st && now - st.mtimeMs > GRACE_MS && !opts.dryRun) await rm(p, { force: true });
  }
  const deadLocks = await new LockManager(layout.locksDir).removeDead(opts.dryRun);
  const compiled = pruneCompiledSpecs(compiledDir(layout), Boolean(opts.dryRun));
  term.out.write(`${opts.dryRun ? 'would remove' : 'removed'} ${removedEntries} cache entries and ${removedObjects} objects (${fmtBytes(removedBytes)}); kept ${keptEntries} entries, ${fmtBytes(keptBytes)} (the current state and the last ${keepRuns} runs)\n`);
  if (compiled.removed) term.out.write(`${opts.dryRun ? 'would remove' : 'removed'} ${compiled.removed} compiled pipeline${compiled.removed === 1 ? '' : 's'} no command can use again (${fmtBytes(compiled.bytes)}: spec changed or gone, or another massflow build)\n`);
  if (deadLocks) term.out.write(`${opts.dryRun ? 'would remove' : 'removed'} ${deadLocks} lock file${deadLocks === 1 ? '' : 's'} of dead runs\n`);
  return EXIT.ok;
}
