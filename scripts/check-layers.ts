// Checks src/ against the layer order written in docs/architecture.md: every relative import must go
// to the importer's own folder or to a folder in a lower layer, and no files may import each other in
// a cycle. The order and the known exceptions are read from the document, so the two cannot drift.
// Usage: tsx scripts/check-layers.ts   (exit 1 on any violation or on an exception that no longer occurs)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Relative module paths (from src/, '/'-separated) to the modules each one imports. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

export interface LayerRules {
  /** Bottom layer first; folders on one line are peers and may not import each other. */
  layers: readonly (readonly string[])[];
  /** Violations tolerated for now, in the form `check` prints them. */
  exceptions: readonly string[];
}

export interface LayerReport {
  /** Violations not listed as exceptions. */
  violations: string[];
  /** Exceptions that no longer occur: the list must shrink with the code. */
  stale: string[];
  /** Every violation found, listed or not, for the figures. */
  all: { upward: string[]; cycles: string[] };
}

/** The top folder of a module under src/ (a file directly in src/ counts as folder ''). */
function folderOf(module: string): string {
  const slash = module.indexOf('/');
  return slash < 0 ? '' : module.slice(0, slash);
}

/** Strongly connected components with more than one file (or a file importing itself), members sorted. */
export function findCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!graph.has(to)) continue;
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const members: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      members.push(member);
    } while (member !== node);
    if (members.length > 1 || (graph.get(node) ?? []).includes(node)) cycles.push(members.sort());
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return cycles.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** The graph between top folders, for cycles that no single pair of files shows. */
export function folderGraph(graph: ImportGraph): ImportGraph {
  const folders = new Map<string, Set<string>>();
  for (const [from, targets] of graph) {
    const edges = folders.get(folderOf(from)) ?? new Set<string>();
    for (const to of targets) if (folderOf(to) !== folderOf(from)) edges.add(folderOf(to));
    folders.set(folderOf(from), edges);
  }
  return new Map([...folders].map(([folder, edges]) => [folder, [...edges]]));
}

/** Checks a graph against the rules; pure, so it is tested on small made-up graphs. */
export function checkLayers(graph: ImportGraph, rules: LayerRules): LayerReport {
  const rank = new Map<string, number>();
  rules.layers.forEach((folders, i) => folders.forEach((folder) => rank.set(folder, i)));
  const upward: string[] = [];
  for (const [from, targets] of [...graph].sort(([a], [b]) => a.localeCompare(b))) {
    const fromFolder = folderOf(from);
    for (const to of [...new Set(targets)].sort()) {
      const toFolder = folderOf(to);
      if (toFolder === fromFolder) continue;
      const fromRank = rank.get(fromFolder);
      const toRank = rank.get(toFolder);
      if (fromRank === undefined) upward.push(`${from} is in ${fromFolder || 'src/'}, a folder with no layer`);
      else if (toRank === undefined) upward.push(`${from} -> ${to}: ${toFolder || 'src/'} has no layer`);
      else if (toRank >= fromRank) upward.push(`${from} -> ${to}`);
    }
  }
  const cycles = [
    ...findCycles(folderGraph(graph)).map((members) => `folder cycle ${members.join(' ')}`),
    ...findCycles(graph).map((members) => `cycle ${members.join(' ')}`),
  ];
  const found = [...new Set([...upward, ...cycles])];
  const listed = new Set(rules.exceptions);
  return {
    violations: found.filter((v) => !listed.has(v)),
    stale: rules.exceptions.filter((e) => !found.includes(e)),
    all: { upward, cycles },
  };
}

/** Reads a fenced block of the given info string from markdown, as trimmed non-empty lines without `#` comments. */
export function fencedLines(markdown: string, info: string): string[] {
  const match = new RegExp('^```' + info + '\\s*\\n([\\s\\S]*?)^```', 'm').exec(markdown);
  if (!match) throw new Error(`no \`\`\`${info} block`);
  return match[1]!
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line.length > 0);
}

/** The rules as docs/architecture.md writes them: its `layers` block lists the top layer first. */
export function rulesFromDoc(markdown: string): LayerRules {
  const layers = fencedLines(markdown, 'layers').map((line) => line.split(/\s+/)).reverse();
  return { layers, exceptions: fencedLines(markdown, 'exceptions') };
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The module a relative specifier names, or undefined for a package or a file outside srcDir. */
function resolveImport(srcDir: string, fromFile: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(fromFile), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  const found = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  if (!found) return undefined;
  const rel = relative(srcDir, found);
  return rel.startsWith('..') ? undefined : rel.split(sep).join('/');
}

/** Every relative import (static, type-only, re-export and dynamic `import()`) of every .ts file under srcDir. */
export function importGraph(srcDir: string): ImportGraph {
  const graph = new Map<string, string[]>();
  for (const file of tsFiles(srcDir).sort()) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = info.importedFiles
      .map((f) => resolveImport(srcDir, file, f.fileName))
      .filter((t): t is string => t !== undefined);
    graph.set(relative(srcDir, file).split(sep).join('/'), targets);
  }
  return graph;
}

function main(): number {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const doc = 'docs/architecture.md';
  const report = checkLayers(importGraph(join(root, 'src')), rulesFromDoc(readFileSync(join(root, doc), 'utf8')));
  const { upward, cycles } = report.all;
  const listed = upward.length + cycles.length - report.violations.length;
  console.log(`layers: ${upward.length} upward imports, ${cycles.length} cycles (${listed} listed as known exceptions in ${doc})`);
  for (const v of report.violations) console.log(`  not allowed: ${v}`);
  for (const s of report.stale) console.log(`  no longer occurs, remove it from the exceptions in ${doc}: ${s}`);
  return report.violations.length > 0 || report.stale.length > 0 ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main();
