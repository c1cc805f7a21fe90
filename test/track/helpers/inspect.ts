// Reads back, through the REST API, what a massflow run left on the server.
import type { MlflowClient } from '../../../src/track/mlflow/client.js';
import type { Run } from '../../../src/track/mlflow/types.js';

export interface ServerRun {
  readonly run: Run;
  readonly key: string;
  readonly tags: Record<string, string>;
  readonly params: Record<string, string>;
}

/** Every MLflow run tagged with this massflow run id, by `massflow.key`. */
export async function runsOf(client: MlflowClient, experimentName: string, massflowRunId: string): Promise<Map<string, ServerRun>> {
  const exp = await client.getExperimentByName(experimentName);
  if (!exp) throw new Error(`experiment ${experimentName} not found`);
  const runs = await client.searchAllRuns({ experimentIds: [exp.experiment_id], filter: `tags.\`massflow.run_id\` = '${massflowRunId}'`, viewType: 'ALL' });
  const out = new Map<string, ServerRun>();
  for (const run of runs) {
    const tags = Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]));
    const key = tags['massflow.key'] ?? '?';
    if (out.has(key)) throw new Error(`two MLflow runs for ${key}`);
    out.set(key, { run, key, tags, params: Object.fromEntries(run.data.params.map((p) => [p.key, p.value])) });
  }
  return out;
}

/** Steps of every point of one metric, sorted; duplicates stay visible. */
export async function stepsOf(client: MlflowClient, runId: string, metric: string): Promise<number[]> {
  return (await client.getMetricHistory(runId, metric)).map((m) => m.step).sort((a, b) => a - b);
}

export const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The dataset inputs of a run as the server returns them: name, digest, source, context, profile. */
export const inputsOf = (run: Run) => run.inputs.dataset_inputs.map((i) => ({
  name: i.dataset.name, digest: i.dataset.digest, sourceType: i.dataset.source_type, source: i.dataset.source,
  context: i.tags?.find((t) => t.key === 'mlflow.data.context')?.value, ...(i.dataset.profile !== undefined && { profile: i.dataset.profile }),
})).sort((a, b) => a.name.localeCompare(b.name));
