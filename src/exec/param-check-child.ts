// Entry point of the param pre-flight's child process (TypeScript stage modules need the tsx
// loader, and importing them may load heavy libraries the runner itself never needs). Reads
// `ParamCheckRequest[]` as JSON on stdin, imports each module once, and sends back over IPC, in
// request order, what each stage's schema rejected.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { isStageDefinition } from '../stage/define.js';
import type { ParamCheckRequest, ParamProblem } from './param-check.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A union of literals ('band' | 'image' | 'none') names its choices; other messages are typebox's. */
function describe(schema: { anyOf?: { const?: unknown }[] }, message: string): string {
  const choices = schema.anyOf?.map((s) => s.const);
  if (choices?.length && choices.every((c) => c !== undefined)) return `expected one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`;
  return message;
}

const requests = JSON.parse(await readStdin()) as ParamCheckRequest[];
const modules = new Map<string, Promise<unknown>>();
const results: ParamProblem[][] = [];
for (const r of requests) {
  const url = pathToFileURL(resolve(r.projectDir, r.module)).href;
  let def: unknown;
  try {
    if (!modules.has(url)) modules.set(url, import(url).then((m: { default?: unknown }) => m.default));
    def = await modules.get(url);
  } catch {
    // A module that does not load fails its stage with the full error; the pre-flight only judges params.
    results.push([]);
    continue;
  }
  if (!isStageDefinition(def) || !def.params) { results.push([]); continue; }
  const errors = Value.Check(def.params, r.params) ? [] : [...Value.Errors(def.params, r.params)].slice(0, 5)
    .map((e) => ({ path: e.path.split('/').filter(Boolean), message: describe(e.schema as { anyOf?: { const?: unknown }[] }, e.message) }));
  results.push(errors);
}
// Over IPC, not stdout: a module that prints when imported must not garble the answer. Stage
// modules may hold handles (a backend's thread pool), so leave once the answer is out.
process.send!(results, undefined, {}, () => process.exit(0));
