// The one quoting rule for values put into shell command strings, checked against a real /bin/sh.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { interpolateShell, quoteContextAfter, shellQuote } from '../../src/spec/shell.js';

const sh = (script: string) => execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
const HOSTILE = ['; rm -rf x', '$(echo pwned)', '`echo pwned`', "it's", '"double"', 'a\\b', '', ' ', '$HOME', '*', 'new\nline', '--flag=1'];

describe('shellQuote', () => {
  it('leaves plain words alone and quotes the rest', () => {
    expect(shellQuote('train.py')).toBe('train.py');
    expect(shellQuote('1.0e-3')).toBe('1.0e-3');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('')).toBe("''");
  });

  it.each(HOSTILE)('reads back as one literal word in every quoting context: %j', (value) => {
    expect(sh(`printf '%s|' ${shellQuote(value)}`)).toBe(`${value}|`);
    expect(sh(`printf '%s|' "x${shellQuote(value, 'double')}y"`)).toBe(`x${value}y|`);
    expect(sh(`printf '%s|' 'x${shellQuote(value, 'single')}y'`)).toBe(`x${value}y|`);
  });
});

describe('interpolateShell', () => {
  it('tracks the quoting the template has open at each value', () => {
    expect(quoteContextAfter(`echo "a 'b`)).toBe('double');
    expect(quoteContextAfter(`echo 'a "b`)).toBe('single');
    expect(quoteContextAfter(`echo \\" a`)).toBe('plain');
    const r = interpolateShell(`printf '%s|' \${v} "in \${v}" 'in \${v}'`, { vars: {}, params: { v: "x'; echo pwned; '" } });
    expect(r.ok).toBe(true);
    if (r.ok) expect(sh(r.value)).toBe("x'; echo pwned; '|in x'; echo pwned; '|in x'; echo pwned; '|");
  });

  it('refuses a list, which has no single word to stand for', () => {
    const r = interpolateShell('echo ${bands}', { vars: {}, params: { bands: ['u', 'g'] } });
    expect(r).toEqual({ ok: false, error: { code: 'interpolation', message: 'a list or map cannot be one word of a shell command', start: 5, end: 13 } });
  });
});
