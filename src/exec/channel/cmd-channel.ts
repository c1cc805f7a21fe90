// What the runner follows for one `cmd:` stage besides its output: the events file it hands the
// stage (MASSFLOW_EVENTS, created empty so a script may open it for appending), and DVCLive's
// folders, i.e. `dvclive/` in the working directory and the folder of a declared `metrics.json`.
// After the stage, DVCLive's metrics.json gives the summary values the per-step files did not.
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { StageInstance } from '../../pipeline/model.js';
import type { StageReporter } from '../executor.js';
import { readMetricsFile, type MetricPoint } from '../metrics-file.js';
import { StageChannel } from './follow.js';

export function dvcliveDirs(stage: StageInstance, root: string): string[] {
  const dirs = [join(root, 'dvclive'), ...stage.metrics.filter((m) => basename(m) === 'metrics.json').map((m) => join(root, dirname(m)))];
  return [...new Set(dirs)];
}

export async function openCmdChannel(stage: StageInstance, root: string, eventsFile: string, report: StageReporter): Promise<StageChannel> {
  await mkdir(dirname(eventsFile), { recursive: true });
  await writeFile(eventsFile, '');
  const channel = new StageChannel({ eventsFile, dvcliveDirs: dvcliveDirs(stage, root), projectDir: root }, report);
  await channel.start();
  return channel;
}

/**
 * Drops from a metrics file's points what DVCLive's per-step files already gave (their last values
 * repeated, and its `step` counter), so no point is logged twice.
 */
export function withoutStreamed(points: MetricPoint[], streamed: ReadonlySet<string>): MetricPoint[] {
  if (!streamed.size) return points;
  // metrics.json nests `train/loss` as { train: { loss } }, which reads back as `train.loss`.
  const dotted = new Set([...streamed].map((k) => k.replace(/\//g, '.')));
  return points.filter((p) => p.key !== 'step' && !streamed.has(p.key) && !dotted.has(p.key));
}

/** DVCLive summaries in undeclared folders (`dvclive/`) that the stage wrote since `since`. */
export async function undeclaredSummaries(stage: StageInstance, root: string, since: number, streamed: ReadonlySet<string>): Promise<MetricPoint[]> {
  const declared = new Set(stage.metrics.map((m) => join(root, m)));
  const points: MetricPoint[] = [];
  for (const dir of dvcliveDirs(stage, root)) {
    const file = join(dir, 'metrics.json');
    if (declared.has(file)) continue;
    const st = await stat(file).catch(() => undefined);
    if (!st || st.mtimeMs < since) continue;
    const r = await readMetricsFile(file);
    if (r.ok) points.push(...withoutStreamed(r.points, streamed).filter((p) => p.key !== 'step'));
  }
  return points;
}
