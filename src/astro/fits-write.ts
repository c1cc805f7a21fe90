// Assembling HDUs into a FITS byte stream: each header padded with blanks and each data unit
// padded to a whole 2880-byte block (zeros, or blanks for ASCII tables as the standard requires).
import { BLOCK, formatHeader, type Card } from './fits-header.js';

export interface Unit {
  readonly cards: readonly Card[];
  readonly data: Uint8Array;
  /** Pad the data with ASCII blanks instead of zeros (ASCII TABLE extensions). */
  readonly padWithBlanks?: boolean;
}

export function buildFits(units: readonly Unit[]): Buffer {
  return Buffer.concat(buildFitsParts(units));
}

/** The same bytes as buildFits, as a list of pieces: lets a writer stream a large file without one more copy. */
export function buildFitsParts(units: readonly Unit[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (const u of units) {
    parts.push(formatHeader(u.cards));
    parts.push(u.data);
    const rem = u.data.length % BLOCK;
    if (rem) parts.push(Buffer.alloc(BLOCK - rem, u.padWithBlanks ? 0x20 : 0));
  }
  return parts;
}
