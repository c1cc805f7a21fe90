// FITS header cards: parsing 2880-byte header blocks into cards and formatting cards back.
// Fixed-format values (FITS 4.0 section 4.2), the long-string CONTINUE convention (section 4.2.1.2),
// commentary cards (COMMENT, HISTORY, blank key) and HIERARCH keys are understood.
import { err, ok, type Result } from '../core/result.js';

export const BLOCK = 2880;
export const CARD = 80;

export type CardValue = string | number | boolean | null;

export interface Card {
  /** Upper-case keyword; for HIERARCH cards the full dotted name after `HIERARCH `. */
  readonly key: string;
  /** null for an undefined value or a commentary card. */
  readonly value: CardValue;
  /** Comment after the slash, or the text of a commentary card. */
  readonly comment?: string;
  /** Commentary cards (COMMENT, HISTORY, blank) carry text, not a value. */
  readonly commentary?: boolean;
  /** Write a number with a decimal point even when it is integral (BSCALE = 1.0, CRPIX1 = 1025.0). */
  readonly float?: boolean;
}

export interface Header {
  readonly cards: readonly Card[];
}

/** Where a card came from, for errors. */
export interface CardProblem {
  readonly offset: number;
  readonly message: string;
}

const COMMENTARY = new Set(['COMMENT', 'HISTORY', '']);

function parseString(text: string): { value: string; rest: string } | null {
  // text starts at the opening quote; '' inside a string is an escaped quote.
  let i = 1;
  let out = '';
  while (i < text.length) {
    const c = text[i]!;
    if (c === "'") {
      if (text[i + 1] === "'") {
        out += "'";
        i += 2;
        continue;
      }
      // Trailing blanks are not significant in FITS strings; leading blanks are.
      return { value: out.replace(/ +$/, ''), rest: text.slice(i + 1) };
    }
    out += c;
    i++;
  }
  return null;
}

function splitComment(rest: string): string | undefined {
  const slash = rest.indexOf('/');
  if (slash < 0) return undefined;
  const c = rest.slice(slash + 1).trim();
  return c.length ? c : undefined;
}

function parseValue(field: string): { value: CardValue; comment: string | undefined; float: boolean } | string {
  const t = field.trimStart();
  if (t.startsWith("'")) {
    const s = parseString(t);
    if (!s) return 'unterminated string';
    return { value: s.value, comment: splitComment(s.rest), float: false };
  }
  const slash = t.indexOf('/');
  const raw = (slash >= 0 ? t.slice(0, slash) : t).trim();
  const comment = slash >= 0 ? splitComment(t.slice(slash)) : undefined;
  if (raw === '') return { value: null, comment, float: false };
  if (raw === 'T') return { value: true, comment, float: false };
  if (raw === 'F') return { value: false, comment, float: false };
  if (/^[+-]?\d+$/.test(raw)) return { value: Number(raw), comment, float: false };
  // Fortran-style D exponents are legal in FITS reals.
  const real = raw.replace(/[dD]/, 'E');
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(real)) return { value: Number(real), comment, float: true };
  // Complex values "(re, im)" are rare in headers; keep the text so nothing is lost.
  if (/^\(.*\)$/.test(raw)) return { value: raw, comment, float: false };
  return `cannot parse value "${raw}"`;
}

/**
 * Parses the cards of one header, from `start` in `bytes` up to and including END.
 * Returns the cards and the offset just past the header's last block.
 */
export function parseHeader(
  bytes: Uint8Array,
  start: number,
): Result<{ header: Header; dataStart: number }, CardProblem> {
  const cards: Card[] = [];
  let pos = start;
  // A pending long string: the value so far and the card index it belongs to.
  let pending: { index: number; value: string } | null = null;
  for (;;) {
    if (pos + CARD > bytes.length) {
      return err({ offset: pos, message: 'file ends inside a header (no END card)' });
    }
    const text = latin1(bytes, pos, CARD);
    const key = text.slice(0, 8).trimEnd();
    if (key === 'END' && text.slice(8).trim() === '') {
      pos += CARD;
      break;
    }
    if (!/^[A-Z0-9_-]*$/.test(key)) {
      return err({ offset: pos, message: `illegal keyword "${key}"` });
    }
    if (key === 'CONTINUE' && pending) {
      const t = text.slice(8).trimStart();
      if (t.startsWith("'")) {
        const s = parseString(t);
        if (!s) return err({ offset: pos, message: 'unterminated CONTINUE string' });
        const prev = cards[pending.index]!;
        const joined: string = pending.value + stripAmp(s.value);
        const comment = [prev.comment, splitComment(s.rest)].filter(Boolean).join(' ') || undefined;
        cards[pending.index] = { ...prev, value: joined, ...(comment ? { comment } : {}) };
        pending = s.value.endsWith('&') ? { index: pending.index, value: joined } : null;
        pos += CARD;
        continue;
      }
    }
    pending = null;
    if (key === 'HIERARCH') {
      const eq = text.indexOf('=');
      if (eq > 0) {
        const name = text.slice(9, eq).trim();
        const v = parseValue(text.slice(eq + 1));
        if (typeof v === 'string') return err({ offset: pos, message: `HIERARCH ${name}: ${v}` });
        cards.push(card(name, v.value, v.comment, v.float));
        pos += CARD;
        continue;
      }
    }
    if (COMMENTARY.has(key) || text.slice(8, 10) !== '= ') {
      // Commentary: COMMENT/HISTORY/blank keys, or any key without a value indicator.
      const body = text.slice(8).trimEnd();
      cards.push({ key, value: null, comment: body.startsWith(' ') ? body.slice(1) : body, commentary: true });
      pos += CARD;
      continue;
    }
    const v = parseValue(text.slice(10));
    if (typeof v === 'string') return err({ offset: pos, message: `${key}: ${v}` });
    cards.push(card(key, v.value, v.comment, v.float));
    if (typeof v.value === 'string' && v.value.endsWith('&')) {
      cards[cards.length - 1] = { ...cards[cards.length - 1]!, value: stripAmp(v.value) };
      pending = { index: cards.length - 1, value: stripAmp(v.value) };
    }
    pos += CARD;
  }
  const dataStart = start + Math.ceil((pos - start) / BLOCK) * BLOCK;
  return ok({ header: { cards }, dataStart });
}

function card(key: string, value: CardValue, comment: string | undefined, float: boolean): Card {
  return { key, value, ...(comment !== undefined ? { comment } : {}), ...(float ? { float } : {}) };
}

function stripAmp(s: string): string {
  return s.endsWith('&') ? s.slice(0, -1) : s;
}

function latin1(bytes: Uint8Array, start: number, len: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, len).toString('latin1');
}

// ---- access ----

export function getCard(h: Header, key: string): Card | undefined {
  for (const c of h.cards) if (c.key === key && !c.commentary) return c;
  return undefined;
}

export function getValue(h: Header, key: string): CardValue | undefined {
  return getCard(h, key)?.value;
}

export function getNumber(h: Header, key: string): number | undefined {
  const v = getValue(h, key);
  if (typeof v === 'number') return v;
  // Some writers (the SDSS frames' EXPTIME) store numbers as strings.
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

export function getString(h: Header, key: string): string | undefined {
  const v = getValue(h, key);
  return typeof v === 'string' ? v : undefined;
}

// ---- formatting ----

function formatNumber(v: number, float: boolean): string {
  if (!Number.isFinite(v)) throw new Error(`FITS headers cannot hold ${v}`);
  if (Number.isInteger(v) && !float && Math.abs(v) < 1e20) return String(v);
  // Shortest round-trip representation, then forced into FITS real syntax (needs '.' or 'E').
  let s = String(v).toUpperCase();
  if (!/[.E]/.test(s)) s += '.0';
  else if (/E/.test(s) && !/\./.test(s.split('E')[0]!)) s = s.replace('E', '.0E');
  if (s.length > 20) s = v.toExponential(13).toUpperCase();
  return s;
}

function quote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function pad80(s: string): string {
  if (s.length > CARD) throw new Error(`card longer than 80 characters: ${s}`);
  return s.padEnd(CARD, ' ');
}

/** Formats one card as one or more 80-character lines (more than one only for CONTINUE strings). */
export function formatCard(c: Card): string[] {
  if (c.commentary) {
    const text = c.comment ?? '';
    const out: string[] = [];
    for (let i = 0; i === 0 || i < text.length; i += 72) out.push(pad80(`${c.key.padEnd(8)}${text.slice(i, i + 72)}`));
    return out;
  }
  if (!/^[A-Z0-9_-]{1,8}$/.test(c.key)) throw new Error(`keyword "${c.key}" is not a legal FITS keyword`);
  const head = `${c.key.padEnd(8)}= `;
  const comment = c.comment ? ` / ${c.comment}` : '';
  if (typeof c.value === 'string') {
    const q = quote(c.value.padEnd(8));
    if (head.length + q.length <= CARD) {
      const line = `${head}${q.padEnd(20)}`;
      return [pad80((line + comment).slice(0, CARD))];
    }
    // Long string: '&'-terminated pieces, continued on CONTINUE cards (quotes doubled count twice).
    const lines: string[] = [];
    let rest = c.value;
    let first = true;
    while (rest.length > 0) {
      const prefix = first ? head : 'CONTINUE  ';
      let n = Math.min(rest.length, CARD - prefix.length - 3);
      while (n > 0 && quote(rest.slice(0, n)).length + 1 > CARD - prefix.length) n--;
      const piece = rest.slice(0, n);
      rest = rest.slice(n);
      lines.push(pad80(`${prefix}${quote(rest.length ? piece + '&' : piece)}`));
      first = false;
    }
    return lines;
  }
  let text: string;
  if (c.value === null) text = '';
  else if (typeof c.value === 'boolean') text = (c.value ? 'T' : 'F').padStart(20);
  else text = formatNumber(c.value, c.float ?? false).padStart(20);
  return [pad80((`${head}${text}` + comment).slice(0, CARD))];
}

/** Formats a header, END card included, padded with blanks to a whole number of blocks. */
export function formatHeader(cards: readonly Card[]): Buffer {
  const lines = cards.flatMap(formatCard);
  lines.push(pad80('END'));
  const text = lines.join('');
  const size = Math.ceil(text.length / BLOCK) * BLOCK;
  return Buffer.from(text.padEnd(size, ' '), 'latin1');
}
