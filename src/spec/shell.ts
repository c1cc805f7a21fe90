// Shell command strings (`cmd: "python train.py --lr ${fit.lr}"`): every interpolated value goes in
// through shellQuote, the one rule for quoting, so a param value is always one literal word and can
// never add shell syntax (`; rm -rf x`, `$(...)`, backticks).
import { evaluate, parseTemplate, type Interpolated, type Scope } from './interpolate.js';

/** Where in the command text a value lands: outside quotes, or inside the user's '...' or "...". */
export type QuoteContext = 'plain' | 'single' | 'double';

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * `value` as shell text that reads back as exactly `value`, given the quoting the user's text has
 * open at that point. Inside the user's quotes it closes them, adds the quoted value and reopens
 * them, so `echo "lr=${fit.lr}"` stays one word.
 */
export function shellQuote(value: string, context: QuoteContext = 'plain'): string {
  const word = SAFE.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
  if (context === 'single') return `'${word}'`;
  if (context === 'double') return `"${word}"`;
  return word;
}

/** The quoting open after `text` when it starts from `context` (backslash escapes honoured). */
export function quoteContextAfter(text: string, context: QuoteContext = 'plain'): QuoteContext {
  let ctx = context;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (ctx === 'single') { if (c === "'") ctx = 'plain'; continue; }
    if (c === '\\') { i++; continue; }
    if (ctx === 'double') { if (c === '"') ctx = 'plain'; continue; }
    if (c === "'") ctx = 'single';
    else if (c === '"') ctx = 'double';
  }
  return ctx;
}

/**
 * A shell command template with every `${...}` value quoted for where it lands. A list or map has
 * no single word to stand for, so it is an error (name one element, or a scalar param).
 */
export function interpolateShell(template: string, scope: Scope): Interpolated<string> {
  const parsed = parseTemplate(template);
  if (!parsed.ok) return parsed;
  let out = '';
  let ctx: QuoteContext = 'plain';
  for (const p of parsed.value) {
    if ('text' in p) { out += p.text; ctx = quoteContextAfter(p.text, ctx); continue; }
    const v = evaluate(p.expr, scope);
    if (!v.ok) return v;
    if (v.value !== null && typeof v.value === 'object') {
      return { ok: false, error: { code: 'interpolation', message: 'a list or map cannot be one word of a shell command', start: p.start, end: p.end } };
    }
    out += shellQuote(String(v.value), ctx);
  }
  return { ok: true, value: out };
}
