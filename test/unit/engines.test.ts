// The Node versions package.json declares must be true for every installed dependency: npm warns
// (EBADENGINE) when one of them asks for a newer Node than our floor, and that Node is what users run.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REPO } from '../e2e/rig.js';

const semver = createRequire(import.meta.url)('semver') as {
  minVersion(range: string): { version: string } | null;
  satisfies(v: string, range: string): boolean;
};

interface LockPackage { version?: string; engines?: { node?: string } | string[] }
const read = (f: string) => JSON.parse(readFileSync(join(REPO, f), 'utf8'));

describe('declared Node engines', () => {
  it('every package in the lockfile accepts the lowest Node that package.json allows, and the CI versions', () => {
    const floorRange = read('package.json').engines.node as string;
    const floor = semver.minVersion(floorRange)!.version;
    const lock = read('package-lock.json') as { packages: Record<string, LockPackage> };
    const refusing: string[] = [];
    let checked = 0;
    for (const [path, pkg] of Object.entries(lock.packages)) {
      const wants = !Array.isArray(pkg.engines) ? pkg.engines?.node : undefined;
      if (!path || !wants) continue;
      checked++;
      for (const node of [floor, '24.0.0']) if (!semver.satisfies(node, wants)) refusing.push(`${path}@${pkg.version} wants node ${wants}, not ${node}`);
    }
    expect(checked).toBeGreaterThan(50);
    expect(refusing).toEqual([]);
  });

  it('the Node running the tests is one package.json allows', () => {
    expect(semver.satisfies(process.versions.node, read('package.json').engines.node)).toBe(true);
  });
});
