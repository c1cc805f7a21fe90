// Words for outcomes, shared by the live view, plain lines and the summary.
import { describeFailure, type SkipCause, type StageOutcome } from '../exec/outcome.js';
import { fmtDuration } from './format.js';

export function describeSkip(c: SkipCause): string {
  switch (c.kind) {
    case 'upstream-failed': return `upstream ${c.upstream} failed`;
    case 'run-stopped': return `not started: the run stopped after ${c.after} failed (--keep-going runs the rest)`;
  }
}

/** The detail column of an outcome: time, what was restored, why it failed or was skipped. */
export function outcomeDetail(o: StageOutcome): string {
  switch (o.kind) {
    case 'ran': return fmtDuration(o.durationMs);
    case 'restored': return `${fmtDuration(o.durationMs)}  from ${o.from === 'remote' ? 'remote cache' : 'cache'}: ${o.outs.join(', ')}`;
    case 'fresh': return 'up to date';
    case 'failed': return `${fmtDuration(o.durationMs)}  ${describeFailure(o.failure)}${o.jobId ? ` (job ${o.jobId})` : ''}`;
    case 'skipped': return describeSkip(o.cause);
    case 'cancelled': return 'stopped; nothing committed';
  }
}
