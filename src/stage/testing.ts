// Runs a stage definition in this process with a recording context: for unit tests of stages.
// The real runner runs each stage in a child process; this gives tests the same contract without one.
import { mkdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import type { StageContext, StageDefinition } from './define.js';

export interface RecordedStageRun {
  logs: string[];
  metrics: { key: string; value: number; step: number | undefined }[];
  artifacts: { path: string; name: string | undefined }[];
  progress: { done: number; total: number }[];
}

export interface InProcessOptions {
  projectDir: string;
  params?: Record<string, unknown>;
  vars?: Record<string, unknown>;
  deps?: string[];
  outs?: string[];
  metrics?: string[];
  stageId?: string;
  backend?: string;
  signal?: AbortSignal;
}

export async function runStageInProcess(def: StageDefinition, opts: InProcessOptions): Promise<RecordedStageRun> {
  const rec: RecordedStageRun = { logs: [], metrics: [], artifacts: [], progress: [] };
  const abs = (p: string) => resolve(opts.projectDir, p);
  const outs = (opts.outs ?? []).map(abs);
  for (const o of outs) await rm(o, { recursive: true, force: true });
  const params = opts.params ?? {};
  if (def.params && !Value.Check(def.params, params)) {
    const first = [...Value.Errors(def.params, params)][0];
    throw new Error(`params do not match the stage schema at ${first?.path || '/'}: ${first?.message}`);
  }
  const ctx: StageContext = {
    params,
    vars: opts.vars ?? {},
    deps: (opts.deps ?? []).map(abs),
    outs,
    outDir: outs[0] ?? abs('.'),
    metricsFiles: (opts.metrics ?? []).map(abs),
    projectDir: opts.projectDir,
    stageId: opts.stageId ?? 'test-stage',
    runId: 'test-run',
    backend: opts.backend ?? 'cpu',
    log: (...parts) => rec.logs.push(parts.map(String).join(' ')),
    metric: (key, value, step) => rec.metrics.push({ key, value, step }),
    artifact: (path, name) => rec.artifacts.push({ path: abs(path), name }),
    progress: (done, total) => rec.progress.push({ done, total }),
    signal: opts.signal ?? new AbortController().signal,
  };
  for (const m of ctx.metricsFiles) await mkdir(resolve(m, '..'), { recursive: true });
  await def.run(ctx);
  return rec;
}
