// Why olddefconfig dropped a requested option: no such symbol in this tree,
// a symbol of another architecture, a bool asked to be m, an unmet
// `depends on` (evaluated over the final .config), or a symbol without a
// prompt that only `select` can set. The tree's own Kconfig files are read
// with grep; what cannot be decided is said, with the line, not guessed.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand, type CommandRunner } from '../util/proc.ts';
import { evalExpr, splitAnd, symbolValues } from './kconfig-expr.ts';
import type { Dropped, Kconfig } from './kconfig.ts';

interface Statement {
  line: number;
  keyword: string;
  rest: string;
}

/** Kconfig statements of a file: help text skipped, `\` continuations joined. */
export function kconfigStatements(text: string): Statement[] {
  const lines = text.split('\n');
  const out: Statement[] = [];
  const indent = (s: string) => s.replace(/\t/g, '        ').search(/\S/);
  for (let i = 0; i < lines.length; i++) {
    let raw = lines[i]!;
    const first = i;
    while (raw.endsWith('\\') && i + 1 < lines.length) raw = raw.slice(0, -1) + ' ' + lines[++i]!;
    const s = raw.replace(/(^|\s)#.*$/, '').trim();
    if (s === '') continue;
    const [keyword, ...rest] = s.split(/\s+/);
    out.push({ line: first + 1, keyword: keyword!, rest: rest.join(' ') });
    if (keyword === 'help' || keyword === '---help---') {
      const base = indent(raw);
      let textIndent = -1;
      while (i + 1 < lines.length) {
        const next = lines[i + 1]!;
        if (next.trim() === '') { i++; continue; }
        if (textIndent < 0) textIndent = indent(next);
        if (indent(next) < textIndent || indent(next) <= base) break;
        i++;
      }
    }
  }
  return out;
}

export interface KconfigEntry {
  file: string;
  line: number;
  type?: string;
  /** A prompt ("bool \"Foo\"" or `prompt`): without one, only select or the default sets it. */
  prompt: boolean;
  /** Condition on the prompt ("bool \"Foo\" if BAR"). */
  promptIf?: { expr: string; line: number };
  /** Own `depends on` lines, then enclosing if/menu/choice conditions of the same file. */
  depends: { expr: string; line: number }[];
}

const BLOCK_END = new Set(['config', 'menuconfig', 'choice', 'endchoice', 'menu', 'endmenu', 'if', 'endif', 'source', 'rsource', 'osource', 'orsource', 'comment', 'mainmenu']);
const TYPES = new Set(['bool', 'tristate', 'string', 'int', 'hex', 'def_bool', 'def_tristate']);

/** Every `config NAME` entry of one Kconfig file. */
export function kconfigEntries(text: string, name: string, file: string): KconfigEntry[] {
  const st = kconfigStatements(text);
  const out: KconfigEntry[] = [];
  // Enclosing conditions: if EXPR ... endif, menu + its depends on ... endmenu, choice ... endchoice.
  const stack: { kind: string; conds: { expr: string; line: number }[] }[] = [];
  for (let i = 0; i < st.length; i++) {
    const s = st[i]!;
    if (s.keyword === 'if') stack.push({ kind: 'if', conds: [{ expr: s.rest, line: s.line }] });
    else if (s.keyword === 'menu' || s.keyword === 'choice') {
      const conds: { expr: string; line: number }[] = [];
      for (let j = i + 1; j < st.length && !BLOCK_END.has(st[j]!.keyword); j++) {
        if (st[j]!.keyword === 'depends') conds.push({ expr: st[j]!.rest.replace(/^on\s+/, ''), line: st[j]!.line });
      }
      stack.push({ kind: s.keyword, conds });
    } else if (s.keyword === 'endif' || s.keyword === 'endmenu' || s.keyword === 'endchoice') stack.pop();
    else if ((s.keyword === 'config' || s.keyword === 'menuconfig') && s.rest === name) {
      const e: KconfigEntry = { file, line: s.line, prompt: false, depends: [] };
      for (let j = i + 1; j < st.length && !BLOCK_END.has(st[j]!.keyword); j++) {
        const b = st[j]!;
        if (b.keyword === 'depends') e.depends.push({ expr: b.rest.replace(/^on\s+/, ''), line: b.line });
        else if (TYPES.has(b.keyword) || b.keyword === 'prompt') {
          if (TYPES.has(b.keyword)) e.type = b.keyword.replace(/^def_/, '');
          const m = /^("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*(?:if\s+(.+))?$/.exec(b.rest);
          if (m && !b.keyword.startsWith('def_')) {
            e.prompt = true;
            if (m[2]) e.promptIf = { expr: m[2], line: b.line };
          }
        }
      }
      for (const frame of stack) e.depends.push(...frame.conds);
      out.push(e);
    }
  }
  return out;
}

export interface SymbolFacts {
  entries: KconfigEntry[];
  /** Symbols with `select NAME` in their entry. */
  selectedBy: string[];
}

const relArch = (file: string) => /^arch\/([^/]+)\//.exec(file)?.[1];

/** The entries an ARCH= build reads: those outside arch/, and those of its own arch/<srcArch>/. */
export function entriesFor(facts: SymbolFacts, srcArch: string): KconfigEntry[] {
  return facts.entries.filter((e) => relArch(e.file) === undefined || relArch(e.file) === srcArch);
}

/** Pure: one clause explaining why `d` was dropped, given the symbol's Kconfig facts and the final .config. */
export function explainDrop(d: Dropped, facts: SymbolFacts, final: Kconfig, srcArch: string): string {
  const name = d.option.replace(/^CONFIG_/, '');
  const head = `${d.option}=${d.requested} (got ${d.actual === 'n' ? 'not set' : d.actual})`;
  if (facts.entries.length === 0) return `${head}: no 'config ${name}' in this tree's Kconfig files`;
  const entries = entriesFor(facts, srcArch);
  if (entries.length === 0) return `${head}: defined only in ${[...new Set(facts.entries.map((e) => e.file))].join(', ')}, which ARCH=${srcArch} does not read`;
  const on = facts.selectedBy.filter((s) => (final.get(`CONFIG_${s}`) ?? 'n') !== 'n');
  if (d.requested === 'n') {
    if (on.length > 0) return `${head}: selected by ${on.map((s) => `${s}=${final.get(`CONFIG_${s}`)}`).join(', ')}`;
    return `${head}: ${entries.some((e) => e.prompt) ? 'its default or a select turned it on' : 'it has no prompt, so its default sets it'} (${entries[0]!.file}:${entries[0]!.line})`;
  }
  if (d.requested === 'm') {
    if (entries.every((e) => e.type === 'bool')) return `${head}: it is bool, so it cannot be m (${entries[0]!.file}:${entries[0]!.line})`;
    if (final.get('CONFIG_MODULES') !== 'y') return `${head}: =m needs CONFIG_MODULES=y, which is not set`;
  }
  const need = d.requested === 'y' ? 2 : 1;
  const reasons: string[] = [];
  for (const e of entries) {
    const conds = [...e.depends, ...(e.promptIf ? [e.promptIf] : [])];
    const unmet: string[] = [];
    const unknown: string[] = [];
    for (const c of conds) {
      for (const term of splitAnd(c.expr)) {
        const v = evalExpr(term, final);
        if (v === null) unknown.push(`'${c.expr}' (${e.file}:${c.line}), which kseries cannot evaluate`);
        else if (v < need) unmet.push(`'${term}' (${symbolValues(term, final)}, at ${e.file}:${c.line})`);
      }
    }
    if (unmet.length > 0) reasons.push(`unmet dependency ${unmet.join(', ')}`);
    else if (unknown.length > 0) reasons.push(`depends on ${unknown.join(', ')}`);
    else if (!e.prompt) {
      const by = facts.selectedBy.length > 0 ? ` (selected by: ${facts.selectedBy.join(', ')}, none of them set)` : '';
      reasons.push(`it has no prompt, so only 'select' can set it${by} (${e.file}:${e.line})`);
    } else {
      // Everything visible from its own file is met: the cause lies where that file is sourced, or in a choice.
      return `${head}: its dependencies in ${e.file}:${e.line} are met, so look at an enclosing menu or if where that file is sourced, a choice, or a range (see 'make menuconfig')`;
    }
  }
  return `${head}: ${reasons[0]}`;
}

/** The `config` and `select` lines naming these symbols in the tree's Kconfig files, read with grep; null when grep fails. */
export async function symbolFacts(srcDir: string, names: string[], run: CommandRunner = runCommand): Promise<Map<string, SymbolFacts> | null> {
  const facts = new Map(names.map((n) => [n, { entries: [], selectedBy: [] } as SymbolFacts]));
  if (names.length === 0) return facts;
  const alt = names.join('|');
  const r = await run('grep', ['-rnE', '--include=Kconfig*', `^[[:space:]]*((menu)?config[[:space:]]+(${alt})[[:space:]]*$|select[[:space:]]+(${alt})([[:space:]]|$))`, '.'], { cwd: srcDir, maxBuffer: 1 << 26 });
  if (r.exitCode > 1) return null;
  const files = new Set(r.stdout.split('\n').filter(Boolean).map((l) => l.slice(0, l.indexOf(':')).replace(/^\.\//, '')));
  for (const file of [...files].sort()) {
    const text = await readFile(join(srcDir, file), 'utf8').catch(() => null);
    if (text === null) return null;
    const st = kconfigStatements(text);
    let current = '';
    for (const s of st) {
      if (s.keyword === 'config' || s.keyword === 'menuconfig') current = s.rest;
      else if (BLOCK_END.has(s.keyword)) current = '';
      else if (s.keyword === 'select' && current !== '') {
        const target = s.rest.split(/\s+/)[0]!;
        const f = facts.get(target);
        if (f && !f.selectedBy.includes(current)) f.selectedBy.push(current);
      }
    }
    for (const n of names) facts.get(n)!.entries.push(...kconfigEntries(text, n, file));
  }
  return facts;
}

/** The arch/ directory a make ARCH= reads (scripts/subarch.include: i386 and x86_64 are x86). */
export function srcArchOf(makeArch: string): string {
  return makeArch === 'i386' || makeArch === 'x86_64' ? 'x86' : makeArch;
}

/** One line: why each dropped option was dropped; null when the tree's Kconfig files could not be read. */
export async function explainDropped(srcDir: string, makeArch: string, dropped: Dropped[], final: Kconfig, run: CommandRunner = runCommand): Promise<string | null> {
  const names = dropped.map((d) => d.option.replace(/^CONFIG_/, '')).filter((n) => /^[A-Za-z0-9_]+$/.test(n));
  const facts = await symbolFacts(srcDir, names, run);
  if (!facts) return null;
  return dropped.map((d) => explainDrop(d, facts.get(d.option.replace(/^CONFIG_/, '')) ?? { entries: [], selectedBy: [] }, final, srcArchOf(makeArch))).join('; ');
}
