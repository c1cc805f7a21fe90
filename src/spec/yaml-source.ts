// YAML parsing that keeps source positions, so any later check can point at the exact node.
import { isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { diag, type Diagnostic, type Location } from './diagnostics.js';
import { SourceFile } from './source.js';

export type PathSegment = string | number;

export class YamlSource {
  private constructor(readonly file: SourceFile, readonly doc: Document.Parsed) {}

  static parse(path: string, text: string): { source: YamlSource; diagnostics: Diagnostic[] } {
    const file = new SourceFile(path, text);
    const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, merge: true });
    const source = new YamlSource(file, doc);
    const diagnostics = doc.errors.map((e) =>
      diag('yaml-syntax', firstLine(e.message), { file: path, range: file.range(e.pos[0], e.pos[1]) }),
    );
    return { source, diagnostics };
  }

  toJS(): unknown {
    return this.doc.toJS({ maxAliasCount: 1000 });
  }

  /**
   * The location of the node at `path`; with `key`, of the map key instead of its value (useful for
   * "unexpected property"). Falls back to the nearest existing ancestor.
   */
  locate(path: readonly PathSegment[], opts: { key?: boolean } = {}): Location {
    let node: unknown = this.doc.contents;
    let best: [number, number] = rangeOf(node) ?? [0, 0];
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
        if (!pair) break;
        if (last && opts.key) { best = rangeOf(pair.key) ?? best; node = undefined; break; }
        node = pair.value;
        best = rangeOf(node) ?? rangeOf(pair.key) ?? best;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
        best = rangeOf(node) ?? best;
        if (node === undefined) break;
      } else break;
    }
    return { file: this.file.path, range: this.file.range(best[0], best[1]) };
  }

  /** Offset of the first character of a scalar's value inside the file (quotes skipped). */
  scalarValueStart(path: readonly PathSegment[]): number | undefined {
    const node = this.doc.getIn(path as PathSegment[], true);
    if (!isScalar(node) || !node.range) return undefined;
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
    return node.range[0] + (quoted ? 1 : 0);
  }

  /** Location of a sub-range of a scalar string value (e.g. one `${...}` inside it). */
  locateInScalar(path: readonly PathSegment[], from: number, to: number): Location {
    const start = this.scalarValueStart(path);
    if (start === undefined) return this.locate(path);
    return { file: this.file.path, range: this.file.range(start + from, start + to) };
  }
}

function rangeOf(node: unknown): [number, number] | undefined {
  const r = (node as Node | undefined)?.range;
  return r ? [r[0], r[1]] : undefined;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
