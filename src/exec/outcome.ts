// The closed unions every stage ends in: renderers switch over them exhaustively.
import type { StageId } from '../core/brand.js';
import type { StoredOutput } from '../cache/store.js';

export type Failure =
  | { kind: 'exit'; code: number | null; signal: string | null }
  | { kind: 'stage-error'; message: string }
  | { kind: 'spawn'; message: string }
  | { kind: 'bad-module'; message: string }
  | { kind: 'params'; message: string }
  | { kind: 'missing-output'; paths: string[] }
  | { kind: 'resources'; message: string }
  | { kind: 'commit'; message: string }
  | { kind: 'executor'; message: string };

export type SkipCause =
  | { kind: 'upstream-failed'; upstream: StageId }
  | { kind: 'run-stopped'; after: StageId };

export type StageOutcome =
  | { kind: 'ran'; durationMs: number; outputs: Record<string, StoredOutput> }
  /** `fromRun`: the run that computed the cached result (its record holds the stage's metrics); `from`: restored from the remote cache. */
  | { kind: 'restored'; durationMs: number; outs: string[]; outputs: Record<string, StoredOutput>; from?: 'remote'; fromRun?: string | undefined }
  | { kind: 'fresh'; outputs: Record<string, StoredOutput>; fromRun?: string | undefined }
  | { kind: 'failed'; durationMs: number; failure: Failure; logTail: string[]; jobId?: string }
  | { kind: 'skipped'; cause: SkipCause }
  | { kind: 'cancelled' };

export type OutcomeKind = StageOutcome['kind'];

export const succeeded = (o: StageOutcome) => o.kind === 'ran' || o.kind === 'restored' || o.kind === 'fresh';

export function describeFailure(f: Failure): string {
  switch (f.kind) {
    case 'exit': return f.signal ? `killed by ${f.signal}` : `exited with code ${f.code}`;
    case 'stage-error': return f.message;
    case 'spawn': return `could not start: ${f.message}`;
    case 'bad-module': return `bad stage module: ${f.message}`;
    case 'params': return `params rejected: ${f.message}`;
    case 'missing-output': return `did not write declared output${f.paths.length > 1 ? 's' : ''} ${f.paths.join(', ')}`;
    case 'resources': return f.message;
    case 'commit': return `could not commit outputs: ${f.message}`;
    case 'executor': return f.message;
  }
}
