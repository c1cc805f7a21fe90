// The implementation digest of a stage: for a TS stage, its module and every project source it
// imports (followed transitively through relative imports; packages are covered by the lockfile,
// and the running massflow's version stands for `massflow/...` imports, which resolve to it whether
// or not the project installed it); for a `cmd:` stage, its argument vector and the project files it names.
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Digest } from '../core/brand.js';
import { MASSFLOW_VERSION } from '../core/package.js';
import { sha256 } from '../cache/canonical.js';
import type { CodeInfo } from '../plan/fingerprint.js';
import type { StageInstance } from '../pipeline/model.js';

const MASSFLOW_IMPORT_RE = /(?:\sfrom\s+|import\(\s*)['"]massflow(?:\/[^'"]*)?['"]/;
const IMPORT_RE = /(?:^|[\s;}])(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function isFile(p: string): boolean {
  try { return statSync(p).isFile(); } catch { return false; }
}

/** Resolves a relative import the way tsx/TypeScript would (`./x.js` may be `./x.ts`). */
function resolveImport(fromFile: string, spec: string): string | undefined {
  const base = resolve(dirname(fromFile), spec);
  const candidates = [base];
  if (/\.(m|c)?js$/.test(base)) candidates.push(base.replace(/\.(m|c)?js$/, '.ts'), base.replace(/\.(m|c)?js$/, '.tsx'), base.replace(/\.js$/, '.mts'));
  candidates.push(`${base}.ts`, `${base}.tsx`, `${base}.js`, `${base}.mjs`, join(base, 'index.ts'), join(base, 'index.js'));
  return candidates.find(isFile);
}

export class CodeDigester {
  private readonly fileCache = new Map<string, { digest: Digest; imports: string[]; massflow: boolean }>();

  constructor(private readonly root: string) {}

  private scan(abs: string): { digest: Digest; imports: string[]; massflow: boolean } {
    const hit = this.fileCache.get(abs);
    if (hit) return hit;
    const text = readFileSync(abs);
    const src = text.toString('utf8');
    const imports: string[] = [];
    if (/\.(m|c)?[jt]sx?$/.test(abs)) {
      for (const m of src.matchAll(IMPORT_RE)) {
        const spec = m[1] ?? m[2];
        const target = spec ? resolveImport(abs, spec) : undefined;
        if (target) imports.push(target);
      }
    }
    const entry = { digest: sha256(text), imports, massflow: MASSFLOW_IMPORT_RE.test(src) };
    this.fileCache.set(abs, entry);
    return entry;
  }

  private rel(abs: string): string {
    return relative(this.root, abs).split('\\').join('/');
  }

  /** Every project file reachable through relative imports, with its digest. */
  moduleGraph(moduleRel: string): Record<string, Digest> {
    const files: Record<string, Digest> = {};
    const stack = [resolve(this.root, moduleRel)];
    while (stack.length) {
      const abs = stack.pop()!;
      const rel = this.rel(abs);
      if (rel in files || !isFile(abs)) continue;
      const { digest, imports, massflow } = this.scan(abs);
      // Sources outside the project (e.g. massflow itself when installed as a package) are pinned by the lockfile.
      if (!rel.startsWith('..')) files[rel] = digest;
      if (massflow) files[`massflow@${MASSFLOW_VERSION}`] = sha256(MASSFLOW_VERSION);
      for (const i of imports) if (!this.rel(i).startsWith('..') && !this.rel(i).includes('node_modules/')) stack.push(i);
    }
    return files;
  }

  codeInfo(s: StageInstance): CodeInfo {
    // Keys in sorted order, as a fingerprint's canonical JSON lists them (see plan/fingerprint.ts).
    if (s.impl.kind === 'ts') return { files: this.moduleGraph(s.impl.module), kind: 'ts' };
    // A program or script named in the arguments is code too (e.g. `python scripts/prep.py`),
    // unless it is a declared dep or out, which are tracked as data.
    const tracked = [...s.deps, ...s.outs, ...s.metrics];
    const isData = (arg: string) => tracked.some((t) => arg === t || arg.startsWith(t + '/'));
    const files: Record<string, Digest> = {};
    for (const arg of s.impl.argv) {
      if (arg.startsWith('-') || arg.includes('\n') || isData(arg)) continue;
      const abs = resolve(this.root, arg);
      const rel = this.rel(abs);
      if (rel.startsWith('..') || rel === '' || !isFile(abs)) continue;
      Object.assign(files, /\.(m|c)?[jt]sx?$/.test(abs) ? this.moduleGraph(rel) : { [rel]: this.scan(abs).digest });
    }
    return { argv: s.impl.argv, files, kind: 'cmd', shell: s.impl.shell };
  }
}
