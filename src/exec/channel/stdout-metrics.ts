// Metrics read from a stage's output lines (`stdout_metrics:`), as Guild AI reads output scalars:
// each line matching the pattern gives a metric; with the default pattern a `step: N` line sets
// the step of the metrics that follow it. A pattern with a `step` group gives the step itself.
import { DEFAULT_STDOUT_METRICS } from '../../pipeline/stage-options.js';

export interface LinePoint { key: string; value: number; step: number | undefined }

export function stdoutMetricsReader(pattern: string): (line: string) => LinePoint | undefined {
  const re = new RegExp(pattern);
  const stepLines = pattern === DEFAULT_STDOUT_METRICS;
  let step: number | undefined;
  return (line) => {
    const g = re.exec(line)?.groups;
    if (!g || g['key'] === undefined || g['value'] === undefined) return undefined;
    const value = Number(g['value']);
    if (!Number.isFinite(value)) return undefined;
    if (stepLines && g['key'] === 'step') {
      if (Number.isInteger(value) && value >= 0) step = value;
      return undefined;
    }
    const own = g['step'] === undefined ? undefined : Number(g['step']);
    return { key: g['key'], value, step: own !== undefined && Number.isInteger(own) && own >= 0 ? own : step };
  };
}
