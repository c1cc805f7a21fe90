// The plan of a run from a project on disk: fingerprints (code, source deps, lockfile, backend) and
// the facts the pure planner needs (cache entries, workspace digests, previous fingerprints), gathered
// here so plan/ never touches the disk.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest, StageId } from '../core/brand.js';
import { sha256 } from '../cache/canonical.js';
import type { ContentDigest } from '../cache/digest-path.js';
import type { CacheEntry } from '../cache/entries.js';
import { decide, type PlannedStage } from '../plan/decide.js';
import { classifyDeps, computeFingerprints, type CodeInfo, type Fingerprint, type FingerprintObject } from '../plan/fingerprint.js';
import type { Pipeline } from '../spec/model.js';
import { backendLabel, detectBackend, type BackendId } from './backend-id.js';
import { CodeDigester } from './code.js';
import { targetOf } from '../remote/remote-cache.js';
import type { Project } from './open.js';

/** A plan with the facts it was made from. */
export interface DiskPlan {
  fingerprints: Map<StageId, Fingerprint>;
  plan: PlannedStage[];
  backend: BackendId;
  lockfile: Digest | null;
  previous: Map<StageId, FingerprintObject>;
}

export async function lockfileDigest(root: string): Promise<Digest | null> {
  for (const name of ['package-lock.json', 'npm-shrinkwrap.json']) {
    try { return sha256(await readFile(join(root, name))); } catch { /* try the next */ }
  }
  return null;
}

export async function fingerprintAll(project: Project, pipeline: Pipeline, backend = detectBackend()) {
  const root = project.layout.root;
  const digester = new CodeDigester(root);
  const code = new Map<StageId, CodeInfo>();
  for (const s of pipeline.stages) code.set(s.id, digester.codeInfo(s));
  const { sources } = classifyDeps(pipeline);
  const sourceDeps = new Map<string, Digest | 'missing'>();
  await Promise.all([...sources].map(async (p) => {
    const d = await project.stat.digestOnly(join(root, p));
    sourceDeps.set(p, d.kind === 'missing' ? 'missing' : d.digest);
  }));
  const lockfile = await lockfileDigest(root);
  const fingerprints = computeFingerprints(pipeline, { code, sourceDeps, lockfile, backend: backendLabel(backend) });
  return { fingerprints, lockfile };
}

/** Gathers what the pure planner needs for the selected stages (cache entries, the workspace digests of
 * their outputs, their last fingerprints), then plans. */
export async function planFromDisk(project: Project, pipeline: Pipeline, selected: ReadonlySet<StageId>, force: boolean): Promise<DiskPlan> {
  const backend = detectBackend();
  const { fingerprints, lockfile } = await fingerprintAll(project, pipeline, backend);
  const entries = new Map<Digest, CacheEntry | undefined>();
  const workspace = new Map<string, ContentDigest>();
  const previous = new Map<StageId, FingerprintObject>();
  const remote = new Map<Digest, CacheEntry>();
  const byId = new Map(pipeline.stages.map((s) => [s.id, s]));
  await Promise.all([...selected].map(async (id) => {
    const fp = fingerprints.get(id)!;
    const stage = byId.get(id)!;
    const [local, prev] = await Promise.all([project.entries.getComplete(fp.digest), project.fingerprints.get(id)]);
    entries.set(fp.digest, local);
    if (prev) previous.set(id, prev);
    const fromRemote = !local && !force && stage.cache && project.remote ? await project.remote.lookup(targetOf(stage, fp.digest)) : undefined;
    if (fromRemote) remote.set(fp.digest, fromRemote);
    const entry = local ?? fromRemote;
    if (entry) {
      for (const out of Object.keys(entry.outs)) workspace.set(out, await project.stat.digestOnly(join(project.layout.root, out)));
    }
  }));
  const plan = decide(pipeline, selected, fingerprints, { entries, workspace, previous, remote }, force);
  return { fingerprints, plan, backend, lockfile, previous };
}
