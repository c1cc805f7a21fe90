// The one place that words failures: the data a stage fails with, and the line a user reads.
import { describe, expect, it } from 'vitest';
import { ResourcePool } from '../../src/exec/resources.js';
import { describeFailure, describeStageReason } from '../../src/report/describe.js';

describe('describeFailure', () => {
  it('words a stage that asks for more than the machine has, from the pool\'s data', () => {
    const pool = new ResourcePool({ cpu: 2, memoryBytes: 4 * 1024 ** 3, gpu: 0 });
    const gpu = pool.fit({ cpu: 1, memoryBytes: 0, gpu: 1, time: undefined });
    const memory = pool.fit({ cpu: 1, memoryBytes: 6 * 1024 ** 3, gpu: 0, time: undefined });
    if (gpu.ok || memory.ok) throw new Error('both must be refused');
    expect(gpu.short).toEqual({ resource: 'gpu', needs: 1, available: 0 });
    expect(describeFailure({ kind: 'resources', ...gpu.short })).toBe('needs 1 GPU slot(s), 0 available (set --gpus or MASSFLOW_GPUS)');
    expect(describeFailure({ kind: 'resources', ...memory.short })).toBe('needs 6GiB of memory, the machine has 4GiB');
  });

  it('names the bookkeeping step that threw, apart from a failed commit', () => {
    expect(describeFailure({ kind: 'bookkeeping', step: 'restore', message: 'ENOSPC' })).toBe('could not restore its outputs from the cache: ENOSPC');
    expect(describeFailure({ kind: 'commit', message: 'ENOSPC' })).toBe('could not commit outputs: ENOSPC');
  });
});

describe('describeStageReason', () => {
  it('words the restore reason and a sweep\'s shared stage', () => {
    expect(describeStageReason({ kind: 'outputs-missing', outs: ['a.txt', 'b.txt'] })).toBe('outputs a.txt, b.txt not in the workspace');
    expect(describeStageReason({ kind: 'shared', trial: 't001' })).toBe('shared: ran in trial t001');
  });
});
