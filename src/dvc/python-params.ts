// Params from a Python file, read the way DVC reads them: module-level `NAME = literal` (also
// annotated), classes as nested maps of their assignments, and `self.NAME = literal` inside a
// class's `__init__`. Assignments whose value is not a literal are skipped, as DVC skips them.
import { PyFloat } from './values.js';

interface Statement { indent: number; text: string }

/** Joins physical lines into logical ones (open brackets and backslashes continue a line). */
function statements(text: string): Statement[] {
  const out: Statement[] = [];
  let buf = '', depth = 0, indent = 0;
  for (const raw of text.split(/\r?\n/)) {
    const line = stripComment(raw);
    if (!buf && !line.trim()) continue;
    if (!buf) indent = line.length - line.trimStart().length;
    buf += (buf ? ' ' : '') + line.trim();
    for (const c of line.replace(/'[^']*'|"[^"]*"/g, '')) {
      if ('([{'.includes(c)) depth++;
      else if (')]}'.includes(c)) depth--;
    }
    if (buf.endsWith('\\')) { buf = buf.slice(0, -1); continue; }
    if (depth > 0) continue;
    out.push({ indent, text: buf });
    buf = ''; depth = 0;
  }
  return out;
}

function stripComment(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) { if (c === '\\') i++; else if (c === quote) quote = ''; }
    else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return line.slice(0, i);
  }
  return line;
}

const ASSIGN = /^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)\s*(?::[^=]+)?=(?!=)\s*(.+)$/;

export function parsePythonParams(text: string): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  const stmts = statements(text);
  for (let i = 0; i < stmts.length; i++) {
    const s = stmts[i]!;
    if (s.indent !== 0) continue;
    const cls = /^class\s+([A-Za-z_]\w*)\s*[:(]/.exec(s.text);
    if (cls) {
      const body: Record<string, unknown> = {};
      let inInit = false, initIndent = -1;
      for (let j = i + 1; j < stmts.length && stmts[j]!.indent > 0; j++) {
        const b = stmts[j]!;
        if (/^def\s+/.test(b.text)) { inInit = /^def\s+__init__\s*\(/.test(b.text); initIndent = b.indent; continue; }
        if (inInit && b.indent <= initIndent) inInit = false;
        const m = ASSIGN.exec(b.text);
        if (!m) continue;
        const name = inInit ? (m[1]!.startsWith('self.') ? m[1]!.slice(5) : undefined) : m[1]!.includes('.') ? undefined : m[1];
        const v = literal(m[2]!);
        if (name !== undefined && v.ok) body[name] = v.value;
      }
      result[cls[1]!] = body;
      continue;
    }
    const m = ASSIGN.exec(s.text);
    if (!m || m[1]!.includes('.')) continue;
    const v = literal(m[2]!);
    if (v.ok) result[m[1]!] = v.value;
  }
  return result;
}

type Lit = { ok: true; value: unknown } | { ok: false };

/** A Python literal (numbers, strings, True/False/None, lists, tuples, sets, dicts). */
export function literal(src: string): Lit {
  let i = 0;
  const ws = () => { while (i < src.length && /\s/.test(src[i]!)) i++; };
  const fail = (): never => { throw new Error('not a literal'); };
  const value = (): unknown => {
    ws();
    const c = src[i];
    if (c === undefined) fail();
    if (c === '[' || c === '(') return seq(c === '[' ? ']' : ')');
    if (c === '{') return mapOrSet();
    if (c === '"' || c === "'") return str();
    const word = /^(True|False|None)\b/.exec(src.slice(i));
    if (word) { i += word[0].length; return word[0] === 'True' ? true : word[0] === 'False' ? false : null; }
    const num = /^[-+]?(?:\d[\d_]*\.?[\d_]*(?:[eE][-+]?\d+)?|\.\d[\d_]*(?:[eE][-+]?\d+)?)/.exec(src.slice(i));
    if (!num) return fail();
    i += num[0].length;
    const n = Number(num[0].replace(/_/g, ''));
    return /[.eE]/.test(num[0]) && Number.isInteger(n) ? new PyFloat(n) : n;
  };
  const str = (): string => {
    let out = '';
    // Adjacent string literals concatenate.
    while (src[i] === '"' || src[i] === "'") {
      const q = src[i++]!;
      while (i < src.length && src[i] !== q) {
        if (src[i] === '\\') { i++; const e = src[i++]; out += e === 'n' ? '\n' : e === 't' ? '\t' : e ?? ''; } else out += src[i++];
      }
      if (src[i] !== q) fail();
      i++; ws();
    }
    return out;
  };
  const seq = (close: string): unknown[] => {
    i++;
    const out: unknown[] = [];
    for (;;) {
      ws();
      if (src[i] === close) { i++; return out; }
      out.push(value()); ws();
      if (src[i] === ',') i++; else if (src[i] !== close) fail();
    }
  };
  const mapOrSet = (): unknown => {
    i++;
    const map: Record<string, unknown> = {};
    const set: unknown[] = [];
    for (;;) {
      ws();
      if (src[i] === '}') { i++; return set.length ? set : map; }
      const k = value(); ws();
      if (src[i] === ':') { i++; map[String(k instanceof PyFloat ? k.value : k)] = value(); } else set.push(k);
      ws();
      if (src[i] === ',') i++; else if (src[i] !== '}') fail();
    }
  };
  try {
    const v = value(); ws();
    return i === src.length ? { ok: true, value: v } : { ok: false };
  } catch {
    return { ok: false };
  }
}
