// A loaded source file: its text split into lines and a mapping from offsets to positions.

export interface Position { line: number; col: number } // both 1-based
export interface Range { start: Position; end: Position }
/** A range in a file, with the file itself, so printing it needs nothing else. */
export interface Location { file: string; range: Range; source: SourceFile }

export class SourceFile {
  readonly lines: string[];
  private readonly lineStarts: number[];

  constructor(readonly path: string, readonly text: string) {
    this.lines = text.split(/\r?\n/);
    this.lineStarts = [0];
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  position(offset: number): Position {
    let lo = 0, hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) lo = mid; else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - (this.lineStarts[lo] ?? 0) + 1 };
  }

  range(start: number, end: number): Range {
    return { start: this.position(start), end: this.position(Math.max(start, end)) };
  }

  location(start: number, end: number): Location {
    return { file: this.path, range: this.range(start, end), source: this };
  }
}
