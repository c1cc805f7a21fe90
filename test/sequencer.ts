// Longest test files first, so that two workers finish together instead of one idling while the
// other runs a minutes-long file it picked up last. vitest does this itself from its results cache,
// but a fresh clone (CI) has none and falls back to file size; test/durations.json carries the
// times of an earlier run (`node scripts/test-durations.mjs` rewrites it). A file this machine has
// timed uses its own figure; a file neither knows goes first, as vitest does with unknown files.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const committed = JSON.parse(readFileSync(new URL('./durations.json', import.meta.url), 'utf8')) as Record<string, number>;

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const rank = (spec: TestSpecification): [failed: number, ms: number] => {
      const path = relative(root, spec.moduleId);
      const cached = this.ctx.cache.getFileTestResults(`${spec.project.name}:${path}`);
      const seconds = committed[path];
      return [cached?.failed ? 1 : 0, cached?.duration ?? (seconds === undefined ? Infinity : seconds * 1000)];
    };
    const ranked = files.map((spec) => ({ spec, rank: rank(spec) }));
    ranked.sort((a, b) => b.rank[0] - a.rank[0] || b.rank[1] - a.rank[1]);
    return ranked.map((r) => r.spec);
  }
}
