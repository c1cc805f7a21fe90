// `massflow import dvc.yaml`: the loaded DVC pipeline written as a massflow pipeline, for projects
// that move over for good. Stages are written as DVC resolved them (foreach and matrix expanded,
// `${...}` substituted); a comment says wherever massflow's meaning differs from DVC's.
import { posix } from 'node:path';
import { Document, isScalar, type Pair, type Scalar, type YAMLMap } from 'yaml';
import { normalizeProjectPath } from '../pipeline/compile.js';
import type { Pipeline, StageInstance } from '../pipeline/model.js';
import type { ResolvedStage } from './resolve.js';
import { isComposite, plain, shellQuote } from './values.js';

const HEADER = [
  ' Imported from %FILE% by `massflow import`. What changed in meaning:',
  ' - foreach and matrix stages are expanded and ${...} values substituted as DVC resolved them;',
  '   `massflow run` reads params from `params:` below, not from params.yaml;',
  ' - massflow runs independent stages in parallel, and a produced dep counts by its upstream',
  "   stage's fingerprint (DVC compares the bytes, so a stage whose upstream reran without",
  '   changing its output did not rerun);',
  ' - commands run through /bin/sh rather than $SHELL.',
].join('\n');

/** A massflow stage name for a DVC one (`train@us` -> `train-us`), unique in the file. */
function stageName(dvcName: string, taken: Set<string>): string {
  let base = dvcName.replace(/@/g, '-').replace(/[^A-Za-z0-9_-]/g, '_');
  if (!/^[A-Za-z]/.test(base)) base = `s-${base}`;
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

export function importDvc(pipeline: Pipeline, resolved: readonly ResolvedStage[]): string {
  const byName = new Map(resolved.map((r) => [r.name, r] as const));
  const taken = new Set<string>();
  const stages: Record<string, unknown> = {};
  const notes = new Map<string, string[]>();
  for (const s of pipeline.stages) {
    const r = byName.get(s.id)!;
    const name = stageName(s.id, taken);
    const { stage, comments } = importStage(s, r, name !== s.id);
    stages[name] = stage;
    if (comments.length) notes.set(name, comments);
  }
  const doc = new Document({ name: pipeline.name, params: pipeline.params, stages });
  doc.commentBefore = HEADER.replace('%FILE%', pipeline.file);
  const map = doc.get('stages', true) as YAMLMap;
  for (const pair of map.items as Pair[]) {
    const key = isScalar(pair.key) ? pair.key : (doc.createNode(pair.key) as Scalar);
    pair.key = key;
    const c = notes.get(String(key.value));
    if (c) key.commentBefore = c.map((l) => ` ${l}`).join('\n');
  }
  return doc.toString({ lineWidth: 0 });
}

function importStage(s: StageInstance, r: ResolvedStage, renamed: boolean): { stage: Record<string, unknown>; comments: string[] } {
  const comments: string[] = [];
  const d = r.data;
  if (renamed) comments.push(`DVC stage '${s.id}'.`);
  const commands = s.impl.kind === 'cmd' ? s.impl.argv.slice(5) : [];
  if (commands.length > 1) comments.push('DVC ran each command in a shell of its own; here they run in one, joined by &&.');
  if (r.wdir) comments.push(`wdir '${r.wdir}': the command starts with cd; paths are relative to the project.`);
  let cmd = commands.join(' && ');
  if (r.wdir) cmd = `cd ${shellQuote(r.wdir)} && ${cmd}`;
  if (cmd.includes('${')) comments.push("The command holds '${', which massflow reads as interpolation: rewrite that part.");

  const deps = [...s.deps];
  const fileParams = Object.keys(s.params).filter((k) => !s.paramKeys.some((p) => p.split('.')[0] === k));
  for (const file of fileParams) {
    deps.push(file);
    const keys = Object.keys(s.params[file] as object);
    comments.push(`params from ${file} (${keys.join(', ')}): the whole file is a dep here.`);
  }
  if (s.paramKeys.length) comments.push(`params.yaml's ${s.paramKeys.join(', ')} are read from params: above; a command that reads params.yaml itself must be kept in step (or read $MASSFLOW_PARAMS).`);

  const outs: string[] = [];
  const metrics: string[] = [];
  for (const kind of ['outs', 'metrics', 'plots'] as const) {
    for (const entry of (d[kind] as unknown[] | undefined) ?? []) {
      const [p, opts] = isComposite(entry) && !Array.isArray(entry) ? Object.entries(entry)[0]! : [entry, {}];
      const path = normalizeProjectPath(posix.join(r.wdir, String(p))) ?? String(p);
      const o = (opts ?? {}) as Record<string, unknown>;
      if (o['persist'] === true) comments.push(`${path} was persist: true; massflow removes outputs before a stage runs.`);
      if (o['cache'] === false) comments.push(`${path} was cache: false; massflow caches every output.`);
      if (kind === 'metrics' && path.endsWith('.json')) metrics.push(path);
      else {
        outs.push(path);
        if (kind !== 'outs') comments.push(`${path} was under ${kind}; massflow keeps it as an output${kind === 'metrics' ? ' (metrics are JSON files)' : ''}.`);
      }
    }
  }
  if (s.frozen) comments.push('frozen in dvc.yaml: massflow has no frozen stages, it runs this one when its inputs change.');
  if (!s.cache) comments.push(d['always_changed'] === true ? 'always_changed: true.' : 'No deps and no outs: DVC ran it every time.');

  const stage: Record<string, unknown> = typeof d['desc'] === 'string' ? { description: d['desc'], cmd } : { cmd };
  if (deps.length) stage['deps'] = deps;
  if (s.paramKeys.length) stage['params'] = [...s.paramKeys];
  if (outs.length) stage['outs'] = outs;
  if (metrics.length) stage['metrics'] = metrics;
  if (!s.cache) stage['cache'] = false;
  return { stage: plain(stage) as Record<string, unknown>, comments };
}
