// Which C function a line of a file belongs to, found the way git finds the
// text after a hunk's second "@@": scan upwards for a "definition" line.
// Posted patches were made with one of git's rules (plain git's default, or
// the cpp diff driver the kernel's .gitattributes selects since 5.x), so a
// hunk is judged by all of them: it is in place when any rule names the same
// identifier as its @@ header.

/** git's default funcname: a line starting with a letter, '_' or '$' (labels at column 0 included). */
const DEFAULT_RULE = /^[A-Za-z_$]/;
/** git's cpp driver: a line starting with a letter or '_' (or '::'), minus goto labels. */
const CPP_RULE = /^(::[ \t]*)?[A-Za-z_]/;
const LABEL = /^[ \t]*[A-Za-z_][A-Za-z_0-9]*:[ \t]*($|\/[/*])/;
/** Conservative: something that opens a parameter list and is not a declaration ending in ';'. */
const FUNCTION_RULE = /^[A-Za-z_$][^;]*\(/;

export type FuncnameRule = 'function' | 'cpp' | 'default';
export const FUNCNAME_RULES: readonly FuncnameRule[] = ['function', 'cpp', 'default'];

export function isFuncnameLine(line: string, rule: FuncnameRule): boolean {
  const l = line.replace(/\r$/, '');
  switch (rule) {
    case 'default':
      return DEFAULT_RULE.test(l);
    case 'cpp':
      return CPP_RULE.test(l) && !LABEL.test(l);
    case 'function':
      return FUNCTION_RULE.test(l) && !/;\s*$/.test(l) && !LABEL.test(l);
  }
}

/**
 * The definition line enclosing line `fromLine` (1-based), scanning from
 * `fromLine` itself upwards, trimmed of trailing whitespace; '' when none.
 */
export function findFuncnameAbove(lines: readonly string[], fromLine: number, rule: FuncnameRule): string {
  for (let i = Math.min(fromLine, lines.length) - 1; i >= 0; i--) {
    const line = lines[i] ?? '';
    if (isFuncnameLine(line, rule)) return line.replace(/\s+$/, '');
  }
  return '';
}

/**
 * The identifier a definition line defines, for comparing a pre-image @@
 * header with a post-image line: "static int io_req_defer_prep(struct ..." →
 * "io_req_defer_prep"; macro definers keep their first argument
 * ("SYSCALL_DEFINE3(io_uring_setup") so two syscalls differ; "struct foo {" → "foo".
 */
export function functionKey(text: string): string {
  const t = text.replace(/\/\*.*?(\*\/|$)/g, ' ').replace(/\/\/.*$/, '').trim();
  const paren = t.indexOf('(');
  if (paren >= 0) {
    const name = /([A-Za-z_$][\w$]*)\s*$/.exec(t.slice(0, paren))?.[1];
    if (name) {
      if (/^[A-Z][A-Z0-9_]*$/.test(name)) {
        const arg = /^\(\s*([A-Za-z_$][\w$]*)/.exec(t.slice(paren))?.[1];
        return arg ? `${name}(${arg}` : name;
      }
      return name;
    }
  }
  const head = t.replace(/\[[^\]]*\]/g, '').split(/[={;:(]/)[0] ?? '';
  return /([A-Za-z_$][\w$]*)\s*$/.exec(head)?.[1] ?? '';
}

/** Whether a found definition line is the one a (possibly truncated, 80-byte) @@ header names. */
export function sameFunction(headerFunction: string, found: string): boolean {
  const header = headerFunction.trim();
  if (header === '' || found === '') return header === found.trim();
  if (found.trim().startsWith(header)) return true;
  const key = functionKey(header);
  return key !== '' && key === functionKey(found);
}

export interface LandedFunction {
  /** The definition line enclosing the landed hunk ('' when none). */
  landedFunction: string;
  misplaced: boolean;
}

/**
 * Where a hunk whose first line (context included) sits at `hunkStartLine`
 * (1-based) of the resulting file landed, judged against its @@ header.
 * git looks from the line above the hunk, so we do too. `extraCandidates`
 * are other names for the landed spot (e.g. git's own header for the applied
 * commit's hunk). A hunk with no header function cannot be judged: never misplaced.
 */
export function judgeLanding(
  fileLines: readonly string[],
  hunkStartLine: number,
  headerFunction: string,
  extraCandidates: readonly string[] = [],
): LandedFunction {
  const found = FUNCNAME_RULES.map((rule) => findFuncnameAbove(fileLines, hunkStartLine - 1, rule));
  const candidates = [...found, ...extraCandidates.filter((c) => c !== '')];
  const best = found.find((f) => f !== '') ?? extraCandidates.find((c) => c !== '') ?? '';
  if (headerFunction.trim() === '') return { landedFunction: best, misplaced: false };
  const match = candidates.find((c) => sameFunction(headerFunction, c));
  return match !== undefined ? { landedFunction: match, misplaced: false } : { landedFunction: best, misplaced: true };
}
