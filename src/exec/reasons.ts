// Human words for why a stage runs.
import type { RunReason } from '../plan/decide.js';
import { summarizeChanges } from '../plan/why.js';

export function describeReason(r: RunReason): string {
  switch (r.kind) {
    case 'forced': return 'forced';
    case 'never-run': return 'never run';
    case 'changed': return summarizeChanges(r.changes);
    case 'cache-disabled': return 'cache: false';
    case 'not-cached': return 'no cached result (last attempt failed, was interrupted, or was collected)';
    case 'outs-changed': return `outputs ${r.outs.join(', ')} changed since the last run`;
  }
}
