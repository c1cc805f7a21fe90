// Compiled pipelines kept between commands. Compiling a spec needs the YAML parser and the schema
// validator, whose modules cost more to load than a warm `status` spends on everything else; a
// spec whose text, arguments and compiler are unchanged compiles to the same pipeline, so the
// result is kept under a key of all three. The files the compiler checked for existence are
// recorded with the answers it got, and the files it read (a dvc.yaml's params files) with the
// digest of what it read; both are checked again before a kept result is used. `gc` removes
// the kept results that no later command can use (./compiled-spec.ts prune).
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { StageId } from '../core/brand.js';
import type { Pipeline } from '../pipeline/model.js';
import { writeJsonAtomic } from '../cache/atomic.js';
import { sha256 } from '../cache/canonical.js';

const FORMAT = 4;

/** The answers the compiler got: is this a file, does this path exist (project-relative). */
export interface Probes<T> { file: T; path: T }
type Answers = Probes<[path: string, exists: boolean][]> & { read: [path: string, digest: string | null][] };

/** What a file holds now, as a kept pipeline recorded it: the digest of its text, null when it cannot be read. */
export const readDigest = (text: string | undefined): string | null => (text === undefined ? null : sha256(text));

/** What a kept pipeline was compiled from: the spec file (absolute), the digest of its text, the compiler build. */
export interface KeptFrom { spec: string; text: string; stamp: string }

interface Kept extends KeptFrom { v: typeof FORMAT; key: string; answers: Answers; pipeline: Omit<Pipeline, 'upstream' | 'source'> & { upstream: [StageId, StageId[]][] } }

/** The identity of compiler code: name, size and mtime of every module file in `dirs` (a rebuild changes it). */
export function codeStamp(dirs: readonly string[]): string {
  const parts: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try { names = readdirSync(dir).sort(); } catch { parts.push(`${dir}:-`); continue; }
    for (const n of names) {
      const st = statSync(join(dir, n), { throwIfNoEntry: false });
      if (st?.isFile()) parts.push(`${dir}/${n}:${st.size}:${st.mtimeMs}`);
    }
  }
  return sha256(parts.join('\n'));
}

export class CompiledSpecs {
  constructor(private readonly dir: string) {}

  private fileFor(key: string) { return join(this.dir, `${key.slice(0, 32)}.json`); }

  /** The pipeline kept under `key` (without its parsed source), when every check it depended on still answers the same. */
  get(key: string, probes: Probes<(path: string) => boolean>, read: (path: string) => string | undefined): Omit<Pipeline, 'source'> | undefined {
    let kept: Kept;
    try { kept = JSON.parse(readFileSync(this.fileFor(key), 'utf8')) as Kept; } catch { return undefined; }
    if (kept.v !== FORMAT || kept.key !== key) return undefined;
    if (!kept.answers.file.every(([p, e]) => probes.file(p) === e) || !kept.answers.path.every(([p, e]) => probes.path(p) === e)) return undefined;
    if (!kept.answers.read.every(([p, d]) => readDigest(read(p)) === d)) return undefined;
    return { ...kept.pipeline, upstream: new Map(kept.pipeline.upstream) };
  }

  /** Keeps a pipeline that compiled without any diagnostic; a project that cannot be written is only slower. */
  async put(key: string, from: KeptFrom, pipeline: Pipeline, answers: Probes<ReadonlyMap<string, boolean>> & { read: ReadonlyMap<string, string | null> }): Promise<void> {
    const { source: _parsed, ...plain } = pipeline;
    const kept: Kept = { v: FORMAT, key, ...from, answers: { file: [...answers.file], path: [...answers.path], read: [...answers.read] }, pipeline: { ...plain, upstream: [...pipeline.upstream] } };
    await writeJsonAtomic(this.fileFor(key), kept).catch(() => undefined);
  }

  /**
   * Removes the kept pipelines no command can use again: another format or compiler build (the key
   * holds the build), or a spec file that is gone or whose text changed (the key holds the text; a
   * file changed back compiles once more). Returns how many files and bytes went (or would go).
   */
  prune(stamp: string, dryRun: boolean): { removed: number; bytes: number } {
    let removed = 0, bytes = 0;
    let names: string[];
    try { names = readdirSync(this.dir).filter((n) => n.endsWith('.json')); } catch { return { removed, bytes }; }
    for (const n of names) {
      const path = join(this.dir, n);
      let text: string;
      try { text = readFileSync(path, 'utf8'); } catch { continue; }
      if (usable(text, stamp)) continue;
      removed++;
      bytes += Buffer.byteLength(text);
      if (!dryRun) rmSync(path, { force: true });
    }
    return { removed, bytes };
  }
}

function usable(keptText: string, stamp: string): boolean {
  let kept: Partial<Kept>;
  try { kept = JSON.parse(keptText) as Partial<Kept>; } catch { return false; }
  if (kept.v !== FORMAT || kept.stamp !== stamp || typeof kept.spec !== 'string') return false;
  try { return sha256(readFileSync(kept.spec, 'utf8')) === kept.text; } catch { return false; }
}
