// Trial workspaces. Trials write the same out paths with different content, so each trial that
// runs something gets its own root (`.massflow/sweeps/<sweep-id>/<trial>/`) that mirrors the project
// by symlink: sources, stage modules and node_modules are the project's own files. Every directory
// on the way to an out path is a real directory holding only what the pipeline declares in it
// (source deps, stage code), so a stage's writes land in the trial, never in the project, and
// stale outputs the project's workspace keeps there (another fold count, an older run) cannot leak
// into a trial. The object store, cache entries and stat cache are the project's (shared: what one
// trial commits, another restores); locks and "last fingerprint" state are per workspace, because
// they are keyed by project-relative path and stage id, which trials share.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { classifyDeps } from '../plan/fingerprint.js';
import type { ProjectLayout } from '../project/layout.js';
import { normalizeProjectPath } from '../pipeline/compile.js';
import type { Pipeline } from '../pipeline/model.js';

/** Never mirrored: massflow's own state, run records, and git (a mirror would look like a dirty tree). */
const SKIP_TOP = new Set(['.massflow', 'runs', '.git']);

export const sweepsDir = (project: ProjectLayout) => join(project.massflowDir, 'sweeps');
export const rerunsDir = (project: ProjectLayout) => join(project.massflowDir, 'reruns');

/** The layout of a workspace rooted at `root` that shares the project's cache and run records. */
export function workspaceLayout(project: ProjectLayout, root: string): ProjectLayout {
  const own = join(root, '.massflow');
  return {
    root,
    massflowDir: own,
    cacheDir: project.cacheDir,
    statDir: project.statDir,
    fingerprintsDir: join(own, 'state', 'fingerprints'),
    locksDir: join(own, 'locks'),
    runsDir: project.runsDir,
  };
}

/** What a workspace for `pipeline` must leave out (outs) and must link (sources and stage code). */
export function workspacePaths(pipeline: Pipeline): { outs: string[]; keep: string[] } {
  const outs = pipeline.stages.flatMap((s) => [...s.outs, ...s.metrics]);
  const keep = new Set(classifyDeps(pipeline).sources);
  for (const s of pipeline.stages) {
    if (s.impl.kind === 'ts') keep.add(s.impl.module);
    else for (const a of s.impl.argv) { const p = !a.startsWith('-') ? normalizeProjectPath(a) : undefined; if (p) keep.add(p); }
  }
  return { outs, keep: [...keep] };
}

interface Node { out: boolean; keep: boolean; children: Map<string, Node> }

/**
 * Creates `root` mirroring `projectRoot`, leaving each of `outs` absent. Inside directories that
 * lead to an out, only the `keep` paths (source deps, stage code) are linked.
 */
export async function createWorkspace(projectRoot: string, root: string, outs: readonly string[], keep: readonly string[]): Promise<void> {
  const tree: Node = { out: false, keep: false, children: new Map() };
  const add = (p: string, mark: (n: Node) => void) => {
    let n = tree;
    for (const seg of p.split('/')) {
      let c = n.children.get(seg);
      if (!c) { c = { out: false, keep: false, children: new Map() }; n.children.set(seg, c); }
      n = c;
    }
    mark(n);
  };
  for (const o of outs) add(o, (n) => { n.out = true; });
  for (const k of keep) add(k, (n) => { n.keep = true; });
  await mirror(projectRoot, root, tree, true);
}

async function mirror(src: string, dst: string, node: Node, top: boolean): Promise<void> {
  await mkdir(dst, { recursive: true });
  const present = isDir(src) ? readdirSync(src) : [];
  const work: Promise<void>[] = [];
  for (const name of present) {
    if (top && SKIP_TOP.has(name)) continue;
    const child = node.children.get(name);
    const leadsToOut = child !== undefined && hasOut(child);
    if (child?.out) continue; // written by its stage, or restored from the cache
    if (leadsToOut) work.push(mirror(join(src, name), join(dst, name), child!, false));
    else if (top || child?.keep) work.push(symlink(join(src, name), join(dst, name)));
    else if (child) work.push(mirror(join(src, name), join(dst, name), child, false));
  }
  await Promise.all(work);
}

function hasOut(n: Node): boolean {
  if (n.out) return true;
  for (const c of n.children.values()) if (hasOut(c)) return true;
  return false;
}

function isDir(p: string): boolean {
  try { return existsSync(p) && statSync(p).isDirectory(); } catch { return false; }
}
