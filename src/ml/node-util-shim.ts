// @tensorflow/tfjs-node 4.22 calls util.isNullOrUndefined and util.isArray, which Node 23 removed.
// Putting them back on the shared `util` module object before the addon loads keeps the native
// backend working on Node 24; on Node 20 and 22 they still exist and nothing changes.
import { createRequire } from 'node:module';

const util = createRequire(import.meta.url)('node:util') as Record<string, unknown>;

export function shimLegacyUtil(): void {
  util['isNullOrUndefined'] ??= (x: unknown) => x === null || x === undefined;
  util['isArray'] ??= Array.isArray;
}
