// The process's terminal: where renderers write, and whether to draw live views and colours.
import { colors, noColors, type Style } from '../report/format.js';
import type { Output } from '../report/run-view.js';

export interface Terminal {
  out: Output;
  err: Output;
  style: Style;
  /** Live redraws only on an interactive terminal, never in CI logs. */
  live: boolean;
}

export function processTerminal(opts: { color?: boolean | undefined } = {}): Terminal {
  const isTty = Boolean(process.stdout.isTTY) && !process.env['CI'];
  const color = opts.color ?? (process.env['NO_COLOR'] ? false : process.env['FORCE_COLOR'] ? true : isTty);
  return {
    out: { write: (s) => void process.stdout.write(s), columns: process.stdout.columns },
    err: { write: (s) => void process.stderr.write(s) },
    style: color ? colors : noColors,
    live: isTty,
  };
}
