// Follows a file another machine appends to (a job's output, a stage's events): each read returns
// the complete lines added since the last one. A file that does not exist yet reads as empty.
import { open } from 'node:fs/promises';

export class FileTail {
  private offset = 0;
  private partial = '';
  private lastChar = '';
  private readonly decoder = new TextDecoder();

  constructor(readonly path: string) {}

  /** New complete lines; with `final`, also a last line without its newline. */
  async lines(final = false): Promise<string[]> {
    let fh;
    try { fh = await open(this.path, 'r'); } catch { return final ? this.rest() : []; }
    try {
      const chunks: string[] = [];
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, this.offset);
        if (!bytesRead) break;
        this.offset += bytesRead;
        chunks.push(this.decoder.decode(buf.subarray(0, bytesRead), { stream: true }));
      }
      const text = chunks.join('');
      if (text) this.lastChar = text[text.length - 1]!;
      this.partial += text;
    } finally {
      await fh.close();
    }
    const parts = this.partial.split('\n');
    this.partial = parts.pop()!;
    return final ? [...parts, ...this.rest()] : parts;
  }

  /** Whether what was read so far stops inside a line (its writer never finished it). */
  get endsMidLine(): boolean {
    return this.lastChar !== '' && this.lastChar !== '\n';
  }

  private rest(): string[] {
    const r = this.partial ? [this.partial] : [];
    this.partial = '';
    return r;
  }
}
