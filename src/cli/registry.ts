// Commands contributed by other modules (tracking, experiments, Slurm) register here, so main.ts
// does not grow with every feature.
import type { Command } from 'commander';
import type { Terminal } from './terminal.js';

export type AddCommand = (program: Command, term: Terminal, setCode: (c: number) => void, common: (c: Command) => Command) => void;

export const extraCommands: AddCommand[] = [];
