// The datasets a run read, as MLflow dataset inputs: the pipeline's source data (deps no stage
// writes) on the top-level run, and each stage's deps on the stage's run. The digest is a prefix
// of massflow's own content hash, so the same bytes show the same digest in every run and the
// MLflow table's Dataset column tells which data gave a result.
import type { StageId } from '../core/brand.js';
import type { StoredOutput } from '../core/run-events.js';
import type { Pipeline } from '../pipeline/model.js';
import { classifyDeps, type Fingerprint } from '../plan/fingerprint.js';
import type { DatasetInput } from '../track/index.js';

/** Digest characters sent: the 12 massflow prints elsewhere (`status`, `rerun --check`). */
export const DATASET_DIGEST_LENGTH = 12;

/** Data no stage writes. */
export const SOURCE_CONTEXT = 'source';
/** Data another stage of the pipeline wrote. */
export const PRODUCED_CONTEXT = 'stage output';

const dataset = (path: string, digest: string, context: string): DatasetInput => ({
  name: path,
  digest: digest.slice(0, DATASET_DIGEST_LENGTH),
  sourceType: 'local',
  source: JSON.stringify({ uri: path }),
  context,
});

/** The pipeline's source data, with its digest; a dep that was missing when planned is left out. */
export function sourceDatasets(pipeline: Pipeline, fingerprints: ReadonlyMap<StageId, Fingerprint>): DatasetInput[] {
  const { sources } = classifyDeps(pipeline);
  const digests = new Map<string, string>();
  for (const s of pipeline.stages) {
    for (const [path, state] of Object.entries(fingerprints.get(s.id)?.object.deps ?? {})) {
      if (sources.has(path) && typeof state === 'string' && state !== 'missing') digests.set(path, state);
    }
  }
  return [...digests].sort(([a], [b]) => a.localeCompare(b)).map(([path, d]) => dataset(path, d, SOURCE_CONTEXT));
}

/**
 * A stage's deps. A dep another stage wrote takes that output's content digest when the producing
 * stage has ended in this run, and otherwise (a path inside an output directory) the producing
 * stage's fingerprint, which names the same bytes as long as the cache holds.
 */
export function stageDatasets(
  fp: Fingerprint | undefined,
  outputs: ReadonlyMap<string, StoredOutput>,
): DatasetInput[] {
  if (!fp) return [];
  const out: DatasetInput[] = [];
  for (const [path, state] of Object.entries(fp.object.deps)) {
    if (state === 'missing') continue;
    if (typeof state === 'string') {
      out.push(dataset(path, state, outputs.has(path) ? PRODUCED_CONTEXT : SOURCE_CONTEXT));
      continue;
    }
    const digest = outputs.get(path)?.digest ?? state.producedBy.map((id) => fp.object.upstream[id]).find((d) => d !== undefined);
    if (digest !== undefined) out.push(dataset(path, digest, PRODUCED_CONTEXT));
  }
  return out;
}
