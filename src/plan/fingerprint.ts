// Fingerprints: the canonical object that decides whether a stage's cached outputs still hold, and
// its SHA-256. Upstream-produced deps enter through the upstream stage's fingerprint rather than
// their bytes, so the whole plan is known before anything runs (status is exact, sweeps share
// stages by fingerprint, and a batch scheduler can skip cache hits before submitting).
import type { Digest, StageId } from '../core/brand.js';
import { digestOf } from '../cache/canonical.js';
import type { Pipeline, StageInstance } from '../pipeline/model.js';
import { flattenParams } from '../pipeline/params.js';
import { OutIndex } from '../pipeline/graph.js';

/** Bump when the meaning of a fingerprint or the cache layout changes. */
export const CACHE_FORMAT = 1;

export type CodeInfo =
  | { kind: 'ts'; files: Record<string, Digest> }
  | { kind: 'cmd'; argv: string[]; shell: boolean; files: Record<string, Digest> };

export type DepState = Digest | 'missing' | { producedBy: StageId[] };

export interface FingerprintObject {
  format: number;
  stage: string;
  code: CodeInfo;
  params: Record<string, unknown>;
  vars: Record<string, unknown>;
  deps: Record<string, DepState>;
  upstream: Record<string, Digest>;
  outs: string[];
  metrics: string[];
  env: Record<string, string>;
  lockfile: Digest | null;
  backend: string;
}

export interface FingerprintInputs {
  code: ReadonlyMap<StageId, CodeInfo>;
  /** Digests of deps no stage produces (project-relative path -> digest or missing). */
  sourceDeps: ReadonlyMap<string, Digest | 'missing'>;
  lockfile: Digest | null;
  backend: string;
}

export interface Fingerprint { digest: Digest; object: FingerprintObject }

/** Which deps of each stage are produced by other stages, and which are plain source files. */
export function classifyDeps(pipeline: Pipeline): { sources: Set<string>; producedBy: Map<string, StageId[]> } {
  const index = new OutIndex(pipeline.stages);
  const sources = new Set<string>();
  // Every stage writing each dep path, looked up once per path (10^4 instances share one dep), and
  // the last stage that reads it as another's output.
  const writers = new Map<string, StageId[]>();
  const lastReader = new Map<string, StageId>();
  for (const s of pipeline.stages) {
    for (const dep of s.deps) {
      if (s.depsByContent) { sources.add(dep); continue; }
      let all = writers.get(dep);
      if (!all) writers.set(dep, all = [...new Set(index.related(dep).map((r) => r.stage))].sort());
      if (all.length === 0 || (all.length === 1 && all[0] === s.id)) sources.add(dep);
      else lastReader.set(dep, s.id);
    }
  }
  // As each reader saw it: the writers other than itself (the compiler rejects a stage writing its
  // own dep, so this is all of them; the last reader's view is kept, as one pass per stage kept it).
  const producedBy = new Map<string, StageId[]>();
  for (const [dep, reader] of lastReader) {
    const all = writers.get(dep)!;
    producedBy.set(dep, all.includes(reader) ? all.filter((id) => id !== reader) : all);
  }
  return { sources, producedBy };
}

export function computeFingerprints(pipeline: Pipeline, inputs: FingerprintInputs): Map<StageId, Fingerprint> {
  const { producedBy } = classifyDeps(pipeline);
  const out = new Map<StageId, Fingerprint>();
  for (const s of pipeline.stages) {
    const object = fingerprintObject(s, pipeline, inputs, producedBy, out);
    out.set(s.id, { digest: digestOf(object), object });
  }
  return out;
}

function fingerprintObject(
  s: StageInstance,
  pipeline: Pipeline,
  inputs: FingerprintInputs,
  producedBy: Map<string, StageId[]>,
  done: Map<StageId, Fingerprint>,
): FingerprintObject {
  const deps: Record<string, DepState> = {};
  for (const d of s.deps) {
    const all = s.depsByContent ? undefined : producedBy.get(d);
    const producers = all?.includes(s.id) ? all.filter((id) => id !== s.id) : all;
    deps[d] = producers?.length ? { producedBy: producers } : inputs.sourceDeps.get(d) ?? 'missing';
  }
  const upstream: Record<string, Digest> = {};
  for (const u of s.depsByContent ? [] : pipeline.upstream.get(s.id) ?? []) {
    const fp = done.get(u);
    if (fp) upstream[u] = fp.digest;
  }
  const code = inputs.code.get(s.id);
  if (!code) throw new Error(`no code digest for ${s.id}`);
  // Keys in sorted order: the object is then its own canonical JSON, which canonicalJson serialises
  // natively (planning 10^5 instances is mostly this).
  return {
    backend: s.impl.kind === 'ts' ? inputs.backend : 'n/a',
    code,
    deps,
    env: s.env,
    format: CACHE_FORMAT,
    lockfile: inputs.lockfile,
    metrics: s.metrics,
    outs: s.outs,
    params: flattenParams(s.params),
    stage: s.id,
    upstream,
    vars: s.vars,
  };
}
