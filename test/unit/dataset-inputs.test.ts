// Which digest each dataset input of a stage carries: a source file's content hash, a stage
// output's stored digest, and for a path inside an output directory the producing stage's fingerprint.
import { describe, expect, it } from 'vitest';
import { asDigest, type StageId } from '../../src/core/brand.js';
import type { StoredOutput } from '../../src/core/run-events.js';
import type { Fingerprint } from '../../src/plan/fingerprint.js';
import { stageDatasets } from '../../src/run/dataset-inputs.js';

const d = (c: string) => asDigest(c.repeat(64));
const fp = {
  digest: d('f'),
  object: {
    deps: { 'data/cat.csv': d('a'), 'work/sky': { producedBy: ['sky' as StageId] }, 'work/cutouts/00.npy': { producedBy: ['cut' as StageId] }, 'data/gone.csv': 'missing' },
    upstream: { sky: d('b'), cut: d('c') },
  },
} as unknown as Fingerprint;

describe('stageDatasets', () => {
  it('names each dep with the digest of the bytes it read, and leaves out a missing one', () => {
    const outputs = new Map<string, StoredOutput>([['work/sky', { kind: 'dir', digest: d('e'), fileCount: 3, size: 10 }]]);
    expect(stageDatasets(fp, outputs).map((x) => [x.name, x.digest, x.context, x.source])).toEqual([
      ['data/cat.csv', 'aaaaaaaaaaaa', 'source', '{"uri":"data/cat.csv"}'],
      ['work/sky', 'eeeeeeeeeeee', 'stage output', '{"uri":"work/sky"}'],
      ['work/cutouts/00.npy', 'cccccccccccc', 'stage output', '{"uri":"work/cutouts/00.npy"}'],
    ]);
  });
});
