// Which local entries a run made, read from run records: what `massflow push RUN` sends, and what
// `remote.push: auto` sends when a run or sweep ends. A remote that is down costs a message; the
// run's result and exit code stay what the stages made them.
import type { CacheEntry } from '../cache/entries.js';
import type { Digest } from '../core/brand.js';
import type { Project } from '../project/open.js';
import { readRunRecord } from '../record/run-record.js';
import type { PushReport } from '../remote/push.js';

/** The local entries of the runs' stages, only those a run executed with `ranOnly` (the push checks their objects); `unknown` names runs with no record. */
export async function entriesOfRuns(project: Project, runIds: readonly string[], ranOnly: boolean): Promise<{ entries: CacheEntry[]; unknown: string[] }> {
  const fps = new Set<Digest>();
  const unknown: string[] = [];
  for (const id of runIds) {
    const rec = await readRunRecord(project.layout.runsDir, id);
    if (!rec) { unknown.push(id); continue; }
    for (const s of Object.values(rec.stages)) if (!ranOnly || s.outcome === 'ran') fps.add(s.fingerprint as Digest);
  }
  const entries: CacheEntry[] = [];
  for (const fp of fps) {
    const e = await project.entries.get(fp);
    if (e) entries.push(e);
  }
  return { entries, unknown };
}

export async function autoPush(project: Project, runIds: readonly string[]): Promise<PushReport | undefined> {
  const remote = project.remote;
  if (!remote || remote.config.push !== 'auto') return undefined;
  const { entries } = await entriesOfRuns(project, runIds, true);
  return entries.length ? remote.push(entries) : undefined;
}
