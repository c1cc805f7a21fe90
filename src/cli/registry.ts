// Commands beyond the core ones (tracking, experiments) are added by functions of this shape, each
// in its own module, so main.ts does not grow with every feature; main.ts lists them.
import type { Command } from 'commander';
import type { Terminal } from './terminal.js';

export type AddCommands = (program: Command, term: Terminal, setCode: (c: number) => void, common: (c: Command) => Command) => void;
