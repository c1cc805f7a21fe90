// The one staleness test the planner and the stage runner share.
import { describe, expect, it } from 'vitest';
import { asDigest } from '../../src/core/brand.js';
import type { ContentDigest } from '../../src/cache/digest-path.js';
import { staleOutputs } from '../../src/plan/decide.js';

const D = (c: string) => asDigest(c.repeat(64));

describe('staleOutputs', () => {
  it('names the outputs missing from the workspace, of another kind, or with other content', () => {
    const outs = {
      'same.txt': { kind: 'file' as const, digest: D('a'), size: 1, exec: false },
      'gone.txt': { kind: 'file' as const, digest: D('b'), size: 1, exec: false },
      'unknown.txt': { kind: 'file' as const, digest: D('b'), size: 1, exec: false },
      'edited.txt': { kind: 'file' as const, digest: D('c'), size: 1, exec: false },
      'now-a-dir': { kind: 'file' as const, digest: D('d'), size: 1, exec: false },
    };
    const workspace = new Map<string, ContentDigest>([
      ['same.txt', { kind: 'file', digest: D('a') }],
      ['gone.txt', { kind: 'missing' }],
      ['edited.txt', { kind: 'file', digest: D('e') }],
      ['now-a-dir', { kind: 'dir', digest: D('d') }],
    ]);
    expect(staleOutputs(outs, workspace)).toEqual(['gone.txt', 'unknown.txt', 'edited.txt', 'now-a-dir']);
  });
});
