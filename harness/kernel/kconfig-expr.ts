// Kconfig dependency expressions ("A && (B || !C)", "X = y", "NR >= 4")
// evaluated over a resulting .config, with Kconfig's tristate logic
// (n=0, m=1, y=2; && is min, || is max, ! is 2-x). Pure. null means the
// expression cannot be decided here (a $(macro), a malformed line).
import type { Kconfig } from './kconfig.ts';

export type Tri = 0 | 1 | 2;

const TOKEN = /\s*(\|\||&&|!=|<=|>=|[!()=<>]|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\$\(|[A-Za-z0-9_.+-]+)/y;

function tokenize(expr: string): string[] | null {
  const out: string[] = [];
  let pos = 0;
  for (;;) {
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(expr);
    if (!m) break;
    if (m[1] === '$(') return null;
    out.push(m[1]!);
    pos = TOKEN.lastIndex;
  }
  return expr.slice(pos).trim() === '' ? out : null;
}

/** A symbol's value in the final .config: constants stand for themselves, an absent symbol is n. */
function valueOf(word: string, config: Kconfig): string {
  if (/^["']/.test(word)) return word.slice(1, -1);
  if (word === 'y' || word === 'm' || word === 'n') return word;
  const v = config.get(`CONFIG_${word}`);
  if (v === undefined) return /^(0x[0-9a-fA-F]+|-?\d+)$/.test(word) ? word : 'n';
  return v.startsWith('"') ? v.slice(1, -1) : v;
}

const tri = (v: string): Tri => (v === 'y' ? 2 : v === 'm' ? 1 : 0);

export function evalExpr(expr: string, config: Kconfig): Tri | null {
  const toks = tokenize(expr);
  if (!toks || toks.length === 0) return null;
  let i = 0;
  const fail = Symbol('fail');
  const primary = (): Tri => {
    const t = toks[i++];
    if (t === undefined) throw fail;
    if (t === '(') {
      const v = or();
      if (toks[i++] !== ')') throw fail;
      return v;
    }
    if (/^[!()&|=<>]/.test(t)) throw fail;
    const op = toks[i];
    if (op && ['=', '!=', '<', '>', '<=', '>='].includes(op)) {
      i++;
      const rhs = toks[i++];
      if (rhs === undefined) throw fail;
      const a = valueOf(t, config);
      const b = valueOf(rhs, config);
      if (op === '=') return a === b ? 2 : 0;
      if (op === '!=') return a !== b ? 2 : 0;
      const na = Number(a);
      const nb = Number(b);
      if (Number.isNaN(na) || Number.isNaN(nb) || a === '' || b === '') throw fail;
      const r = op === '<' ? na < nb : op === '>' ? na > nb : op === '<=' ? na <= nb : na >= nb;
      return r ? 2 : 0;
    }
    return tri(valueOf(t, config));
  };
  const not = (): Tri => {
    if (toks[i] === '!') {
      i++;
      return (2 - not()) as Tri;
    }
    return primary();
  };
  // a && b takes the lower tristate, a || b the higher (y=2, m=1, n=0).
  const chain = (op: string, next: () => Tri, pick: (a: number, b: number) => number) => (): Tri => {
    let v = next();
    while (toks[i] === op) {
      i++;
      v = pick(v, next()) as Tri;
    }
    return v;
  };
  const and = chain('&&', not, Math.min);
  const or = chain('||', and, Math.max);
  try {
    const v = or();
    return i === toks.length ? v : null;
  } catch (e) {
    if (e === fail) return null;
    throw e;
  }
}

/** The top-level && terms of an expression, so a message can name the unmet one. */
export function splitAnd(expr: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  let quote = '';
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && expr.startsWith('&&', i)) {
      out.push(expr.slice(start, i).trim());
      start = i + 2;
      i++;
    }
  }
  out.push(expr.slice(start).trim());
  return out.filter((s) => s !== '');
}

/** The symbols an expression mentions, with their final values, for messages: "PCI=n, X86_64=y". */
export function symbolValues(expr: string, config: Kconfig): string {
  const words = (tokenize(expr) ?? []).filter((t) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(t) && !['y', 'm', 'n'].includes(t));
  return [...new Set(words)].map((w) => `${w}=${config.get(`CONFIG_${w}`) ?? 'n'}`).join(', ');
}
