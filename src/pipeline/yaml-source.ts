// YAML parsing that keeps source positions, so any later check can point at the exact node.
import { createRequire } from 'node:module';
import type { Document, Node } from 'yaml';
import { diag, type Diagnostic, type Location } from './diagnostics.js';
import { SourceFile } from './source.js';

export type PathSegment = string | number;

// The parser loads on the first parse: a command served from the compiled-spec cache imports this
// module for the class, and parses (and so needs the parser) only to locate a later finding.
let yamlLib: typeof import('yaml') | undefined;
const Y = () => (yamlLib ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));

/**
 * Spec files are written by hand; the YAML parser needs about a second per MiB (and far more
 * memory), so a larger file is refused before parsing: the answer then comes at once, whatever
 * the size, instead of minutes later.
 */
export const MAX_SPEC_BYTES = 1024 * 1024;

/** Nodes an alias may expand to in all: a nested alias bomb stops here, not at the memory limit. */
const MAX_ALIAS_COUNT = 1000;

export class YamlSource {
  private constructor(readonly file: SourceFile, readonly doc: Document.Parsed | undefined) {}

  static parse(path: string, text: string): { source: YamlSource; diagnostics: Diagnostic[] } {
    const file = new SourceFile(path, text);
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_SPEC_BYTES) {
      const message = `the file is ${(bytes / 1024 / 1024).toFixed(1)} MiB; a spec file may be at most ${MAX_SPEC_BYTES / 1024 / 1024} MiB (keep data in files the stages list in deps)`;
      return { source: new YamlSource(file, undefined), diagnostics: [diag('too-large', message, file.location(0, 0))] };
    }
    // The parser's own unique-key check compares every key with every other (quadratic in a map's
    // size); duplicateKeys below does it in one pass.
    const doc = Y().parseDocument(text, { prettyErrors: false, uniqueKeys: false, merge: true });
    const source = new YamlSource(file, doc);
    const diagnostics = doc.errors.map((e) => diag('yaml-syntax', firstLine(e.message), file.location(e.pos[0], e.pos[1])));
    if (!diagnostics.length) diagnostics.push(...source.duplicateKeys());
    return { source, diagnostics };
  }

  /** The document as plain data, or a located error when its aliases expand too far (an alias bomb). */
  toJS(): { ok: true; value: unknown } | { ok: false; diagnostic: Diagnostic } {
    try {
      return { ok: true, value: this.doc?.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? null };
    } catch (e) {
      if (!(e instanceof ReferenceError)) throw e;
      let first: [number, number] = [0, 0];
      Y().visit(this.doc!, { Alias: (_k, n) => { if (n.range) first = [n.range[0], n.range[1]]; return Y().visit.BREAK; } });
      return { ok: false, diagnostic: diag('yaml-syntax', `aliases here expand to more than ${MAX_ALIAS_COUNT} nodes (an alias bomb?); write the values out`, this.file.location(first[0], first[1])) };
    }
  }

  private duplicateKeys(): Diagnostic[] {
    const out: Diagnostic[] = [];
    if (!this.doc) return out;
    Y().visit(this.doc, {
      Map: (_k, map) => {
        const seen = new Map<string, Node>();
        for (const pair of map.items) {
          if (!Y().isScalar(pair.key) || Y().isAlias(pair.key)) continue;
          const key = String(pair.key.value);
          if (key === '<<') continue;
          const first = seen.get(key);
          if (!first) { seen.set(key, pair.key); continue; }
          const [a, b] = pair.key.range ?? [0, 0];
          const [fa, fb] = first.range ?? [0, 0];
          out.push(diag('yaml-syntax', `duplicate key '${key}'`, this.file.location(a, b), [{ message: `'${key}' is first set here`, location: this.file.location(fa, fb) }]));
        }
      },
    });
    return out;
  }

  /**
   * The location of the node at `path`; with `key`, of the map key instead of its value (useful for
   * "unexpected property"). Falls back to the nearest existing ancestor.
   */
  locate(path: readonly PathSegment[], opts: { key?: boolean } = {}): Location {
    let node: unknown = this.doc?.contents;
    let best: [number, number] = rangeOf(node) ?? [0, 0];
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      if (Y().isMap(node)) {
        const pair = node.items.find((p) => Y().isPair(p) && keyText(p.key) === String(seg));
        if (!pair) break;
        if (last && opts.key) { best = rangeOf(pair.key) ?? best; node = undefined; break; }
        node = pair.value;
        best = rangeOf(node) ?? rangeOf(pair.key) ?? best;
      } else if (Y().isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
        best = rangeOf(node) ?? best;
        if (node === undefined) break;
      } else break;
    }
    return this.file.location(best[0], best[1]);
  }

  /** The scalar at `path` as written in the file (`1.0e-3` stays `1.0e-3`), or undefined. */
  scalarSource(path: readonly PathSegment[]): string | undefined {
    const node = this.doc?.getIn(path as PathSegment[], true);
    if (!Y().isScalar(node) || !node.range) return undefined;
    if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' || typeof node.value === 'string') return String(node.value);
    return node.source ?? this.file.text.slice(node.range[0], node.range[1]).trim();
  }

  /** Offset of the first character of a scalar's value inside the file (quotes skipped). */
  scalarValueStart(path: readonly PathSegment[]): number | undefined {
    const node = this.doc?.getIn(path as PathSegment[], true);
    if (!Y().isScalar(node) || !node.range) return undefined;
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
    return node.range[0] + (quoted ? 1 : 0);
  }

  /** Location of a sub-range of a scalar string value (e.g. one `${...}` inside it). */
  locateInScalar(path: readonly PathSegment[], from: number, to: number): Location {
    const start = this.scalarValueStart(path);
    if (start === undefined) return this.locate(path);
    return this.file.location(start + from, start + to);
  }
}

function rangeOf(node: unknown): [number, number] | undefined {
  const r = (node as Node | undefined)?.range;
  return r ? [r[0], r[1]] : undefined;
}

function keyText(key: unknown): string {
  return Y().isScalar(key) ? String(key.value) : String(key);
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
