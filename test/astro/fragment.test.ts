import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import buildCatalog, { catalogParams } from '../../stages/build-catalog.js';
import fetchSdss, { fetchParams } from '../../stages/fetch-sdss.js';
import makeCutouts, { cutoutParams } from '../../stages/make-cutouts.js';
import simSky, { simParams } from '../../stages/sim-sky.js';
import { resolveParams } from '../../src/astro/params.js';

const fragment = parse(readFileSync(new URL('../../pipelines/paper.fragment.yaml', import.meta.url), 'utf8'));

describe('pipelines/paper.fragment.yaml', () => {
  const cases = [
    ['sim-sky', simSky, simParams, 'sim', 'stages'],
    ['make-cutouts', makeCutouts, cutoutParams, 'cutout', 'stages'],
    ['build-catalog', buildCatalog, catalogParams, 'catalog', 'stages-sdss'],
    ['fetch-sdss', fetchSdss, fetchParams, 'fetch', 'stages-sdss'],
  ] as const;
  for (const [name, stage, schema, group, section] of cases) {
    it(`${name}: wired to its module and param group; the listed params pass its schema and equal its defaults`, () => {
      expect(fragment[section][name].run).toBe(`stages/${name}.ts`);
      expect(fragment[section][name].params).toEqual([group]);
      expect(Value.Check(stage.params!, { [group]: fragment.params[group] })).toBe(true);
      expect(resolveParams(schema, fragment.params[group])).toEqual(resolveParams(schema, {}));
      // Every param of the stage is listed, so `-p group.key=value` can reach each one.
      expect(Object.keys(fragment.params[group]).sort()).toEqual(Object.keys(resolveParams(schema, {})).sort());
    });
  }

  it('make-cutouts reads what either source writes', () => {
    expect(fragment.stages['make-cutouts'].deps).toEqual(['data/sky']);
    expect(fragment.stages['sim-sky'].outs).toEqual(['data/sky']);
    expect(fragment['stages-sdss']['fetch-sdss'].outs).toEqual(['data/sky']);
    expect(fragment['stages-sdss']['fetch-sdss'].deps).toEqual(['data/catalog']);
    expect(fragment.params.cutout.sizeMpc).toBe(fragment.params.sim.cellMpc);
  });
});
