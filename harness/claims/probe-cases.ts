// The case names each probe declares, read from its C source under
// images/probes/: probeCases() is pure, loadProbeCases() only reads files.
//
// A probe declares its cases in a table, `case_names[] = { "a", "b", ... }`
// or `cases[] = { { "a", ... }, ... }` (the first string of each element),
// whose size is its KTAP plan; the names it passes as string literals to
// ktap_ok/ktap_fail/ktap_skip (first argument) and ktap_result (second) count
// too. A name built at run time (a char buffer, a macro pasted onto a string,
// a call) makes the list incomplete: such a probe's cases are not checked.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IMAGES_DIR } from '../util/paths.ts';

export interface ProbeCases {
  /** The table's names in order, then literal result names the table lacks. */
  names: string[];
  /** False when some case name cannot be known from the source; then `why` says which. */
  complete: boolean;
  why?: string;
  /** Literal result names missing from the table (a probe that drifted from its table). */
  outsideTable: string[];
}

/** Probe name → its declared cases. */
export type ProbeCaseTable = Readonly<Record<string, ProbeCases>>;

type Token = { kind: 'str' | 'id' | 'punct'; text: string };

const TABLE_NAMES = ['case_names', 'cases'];
/** Result calls and the index of their name argument. */
const RESULT_CALLS: Record<string, number> = { ktap_ok: 0, ktap_fail: 0, ktap_skip: 0, ktap_result: 1 };

/** C tokens without comments; string literals keep their (unescaped) contents. */
export function cTokens(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (/\s/.test(ch)) i++;
    else if (src.startsWith('//', i)) i = src.indexOf('\n', i) < 0 ? src.length : src.indexOf('\n', i);
    else if (src.startsWith('/*', i)) i = src.indexOf('*/', i + 2) < 0 ? src.length : src.indexOf('*/', i + 2) + 2;
    else if (ch === '"' || ch === "'") {
      let j = i + 1;
      let text = '';
      while (j < src.length && src[j] !== ch && src[j] !== '\n') {
        if (src[j] === '\\' && j + 1 < src.length) {
          text += src[j + 1];
          j += 2;
        } else text += src[j++];
      }
      if (ch === '"') out.push({ kind: 'str', text });
      else out.push({ kind: 'punct', text: `'${text}'` });
      i = j + 1;
    } else if (/[A-Za-z0-9_]/.test(ch)) {
      const m = /^[A-Za-z0-9_]+/.exec(src.slice(i, i + 200))!;
      out.push({ kind: 'id', text: m[0] });
      i += m[0].length;
    } else {
      out.push({ kind: 'punct', text: ch });
      i++;
    }
  }
  return out;
}

const OPEN: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/** Index of the token closing the bracket at `open`. */
function closing(ts: readonly Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < ts.length; i++) {
    const t = ts[i]!.text;
    if (ts[i]!.kind !== 'punct') continue;
    if (t in OPEN) depth++;
    else if (t === ')' || t === ']' || t === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return ts.length;
}

/** The comma-separated items between brackets at `open` and its match. */
function items(ts: readonly Token[], open: number): Token[][] {
  const end = closing(ts, open);
  const out: Token[][] = [[]];
  let depth = 0;
  for (let i = open + 1; i < end; i++) {
    const t = ts[i]!;
    if (t.kind === 'punct' && t.text in OPEN) depth++;
    else if (t.kind === 'punct' && (t.text === ')' || t.text === ']' || t.text === '}')) depth--;
    if (depth === 0 && t.kind === 'punct' && t.text === ',') out.push([]);
    else out[out.length - 1]!.push(t);
  }
  return out.filter((x) => x.length > 0);
}

/** Adjacent string literals as C joins them, or undefined when `ts` is not only literals. */
const literal = (ts: readonly Token[]): string | undefined => (ts.length > 0 && ts.every((t) => t.kind === 'str') ? ts.map((t) => t.text).join('') : undefined);

const seq = (ts: readonly Token[], at: number, texts: readonly string[]) => texts.every((x, k) => ts[at + k]?.text === x);

/** The case table's names, or a reason it cannot be read; undefined when there is none. */
function caseTable(ts: readonly Token[]): { names: string[]; generated?: string } | undefined {
  for (let i = 0; i < ts.length; i++) {
    if (ts[i]!.kind !== 'id' || !TABLE_NAMES.includes(ts[i]!.text) || !seq(ts, i + 1, ['[', ']', '=', '{'])) continue;
    const table = ts[i]!.text;
    const names: string[] = [];
    for (const el of items(ts, i + 4)) {
      // A struct element: its first member, or a designated .name.
      const inner = el[0]?.text === '{' ? items(el, 0) : [el];
      const designated = inner.find((m) => seq(m, 0, ['.', 'name', '=']));
      const first = designated ? designated.slice(3) : inner[0] ?? [];
      const name = literal(first);
      if (name === undefined) return { names, generated: `${table}[] has an entry that is not a string literal` };
      names.push(name);
    }
    return { names };
  }
  return undefined;
}

/** Is `ts` an element of the case table: case_names[i], cases[i].name? */
const tableElement = (ts: readonly Token[]): boolean =>
  ts.length >= 4 && TABLE_NAMES.includes(ts[0]!.text) && ts[1]!.text === '[' && (closing(ts, 1) === ts.length - 1 || (closing(ts, 1) === ts.length - 3 && seq(ts, ts.length - 2, ['.', 'name'])));

/** The case names a probe source declares. */
export function probeCases(src: string): ProbeCases {
  const ts = cTokens(src);
  const table = caseTable(ts);
  const literals: string[] = [];
  let generated = table?.generated;
  let variable: string | undefined;
  for (let i = 0; i < ts.length && generated === undefined; i++) {
    const at = RESULT_CALLS[ts[i]!.text];
    if (at === undefined || ts[i]!.kind !== 'id' || ts[i + 1]?.text !== '(' || ts[i - 1]?.text === '.') continue;
    const arg = items(ts, i + 1)[at];
    if (!arg) continue;
    const name = literal(arg);
    if (name !== undefined) {
      if (!literals.includes(name)) literals.push(name);
    } else if (tableElement(arg)) {
      // one of the table's names
    } else if (arg.length === 1 && arg[0]!.kind === 'id') {
      // A pointer variable holds a table element or a literal; a char buffer is written at run time.
      const id = arg[0]!.text;
      if (ts.some((t, k) => t.text === 'char' && ts[k + 1]?.text === id && ts[k + 2]?.text === '[')) generated = `${ts[i]!.text}() names a case with the char buffer ${id}`;
      else variable ??= id;
    } else {
      generated = `${ts[i]!.text}() names a case with "${arg.map((t) => (t.kind === 'str' ? `"${t.text}"` : t.text)).join(' ')}"`;
    }
  }
  const tableNames = table?.names ?? [];
  const outsideTable = table ? literals.filter((n) => !tableNames.includes(n)) : [];
  const names = [...tableNames, ...literals.filter((n) => !tableNames.includes(n))];
  if (generated === undefined && !table && variable !== undefined) generated = `no case_names[] table, and a case is named by the variable ${variable}`;
  if (generated === undefined && names.length === 0) generated = 'no case_names[] table and no literal case names';
  return { names, complete: generated === undefined, ...(generated !== undefined ? { why: generated } : {}), outsideTable };
}

/** Every images/probes/<probe>.c's declared cases. */
export async function loadProbeCases(imagesDir = IMAGES_DIR): Promise<Record<string, ProbeCases>> {
  const dir = join(imagesDir, 'probes');
  const out: Record<string, ProbeCases> = {};
  for (const f of (await readdir(dir)).filter((f) => f.endsWith('.c')).sort()) out[f.slice(0, -2)] = probeCases(await readFile(join(dir, f), 'utf8'));
  return out;
}
