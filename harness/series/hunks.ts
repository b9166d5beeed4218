// Unified diffs and GNU patch's account of applying them: which file and hunk
// went where, with which offset and fuzz. Hunk numbers are 1-based within a
// file's section of the diff, as GNU patch counts them.

export interface DiffHunk {
  /** 1-based within its file section. */
  number: number;
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** Text after the second "@@" ('' when none). */
  headerFunction: string;
  /** Body lines with their ' ', '-', '+' or '\' prefix. */
  lines: string[];
}

export interface FileDiff {
  /** Path with the first component (a/) stripped; null for a created file. */
  oldPath: string | null;
  /** Path with the first component (b/) stripped; null for a deleted file. */
  newPath: string | null;
  hunks: DiffHunk[];
}

/** The path a file section is known by: the new name, or the old one for a deletion. */
export function diffPath(f: FileDiff): string {
  return f.newPath ?? f.oldPath ?? '';
}

/** Every path a diff touches (old and new names), for staging and cleaning only those. */
export function touchedPaths(files: readonly FileDiff[]): string[] {
  const out = new Set<string>();
  for (const f of files) {
    if (f.oldPath) out.add(f.oldPath);
    if (f.newPath) out.add(f.newPath);
  }
  return [...out];
}

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$/;

/** Undo git's C-style quoting of a path ("a/t\303\244st" with octal escapes). */
function unquote(s: string): string {
  if (!s.startsWith('"') || !s.endsWith('"') || s.length < 2) return s;
  const bytes: number[] = [];
  const body = s.slice(1, -1);
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '"': 34, '\\': 92 };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = body[i + 1] ?? '';
    const oct = /^[0-7]{3}/.exec(body.slice(i + 1));
    if (oct) {
      bytes.push(parseInt(oct[0], 8));
      i += 3;
    } else {
      bytes.push(simple[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** "a/fs/io_uring.c\t2020-..." → "fs/io_uring.c"; "/dev/null" → null. Strips one leading component, like patch -p1. */
function headerPath(raw: string): string | null {
  let s = raw.replace(/\r$/, '');
  s = s.startsWith('"') ? unquote(s.replace(/\t.*$/, '').trimEnd()) : s.replace(/\t.*$/, '').trimEnd();
  if (s === '/dev/null') return null;
  const slash = s.indexOf('/');
  return slash >= 0 ? s.slice(slash + 1) : s;
}

/**
 * Parse the unified diffs in a patch (git or plain), ignoring everything
 * around them (commit message, diffstat, the "-- " signature). Hunk bodies
 * are read by their line counts, so a trailing "-- " is not taken for a removal.
 */
export function parseUnifiedDiff(text: string): FileDiff[] {
  const lines = text.split('\n');
  const files: FileDiff[] = [];
  let cur: FileDiff | undefined;
  let gitSection = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.startsWith('diff --git ')) {
      // Names from "diff --git a/x b/x" are a fallback for sections without ---/+++ (renames, mode changes).
      const m = /^diff --git (\S+) (\S+)$/.exec(line);
      cur = { oldPath: m ? headerPath(m[1]!) : null, newPath: m ? headerPath(m[2]!) : null, hunks: [] };
      files.push(cur);
      gitSection = true;
      continue;
    }
    if (line.startsWith('--- ') && (lines[i + 1] ?? '').startsWith('+++ ')) {
      if (!cur || !gitSection || cur.hunks.length > 0) {
        cur = { oldPath: null, newPath: null, hunks: [] };
        files.push(cur);
        gitSection = false;
      }
      cur.oldPath = headerPath(line.slice(4));
      cur.newPath = headerPath(lines[i + 1]!.replace(/\r$/, '').slice(4));
      i++;
      continue;
    }
    if (cur && gitSection && cur.hunks.length === 0) {
      if (line.startsWith('rename from ') || line.startsWith('copy from ')) cur.oldPath = unquote(line.replace(/^(rename|copy) from /, ''));
      else if (line.startsWith('rename to ') || line.startsWith('copy to ')) cur.newPath = unquote(line.replace(/^(rename|copy) to /, ''));
      else if (line.startsWith('new file mode')) cur.oldPath = null;
      else if (line.startsWith('deleted file mode')) cur.newPath = null;
    }
    const h = HUNK_HEADER.exec(line);
    if (h && cur) {
      const hunk: DiffHunk = {
        number: cur.hunks.length + 1,
        oldStart: Number(h[1]),
        oldLines: h[2] === undefined ? 1 : Number(h[2]),
        newStart: Number(h[3]),
        newLines: h[4] === undefined ? 1 : Number(h[4]),
        headerFunction: (h[5] ?? '').trim(),
        lines: [],
      };
      let oldLeft = hunk.oldLines;
      let newLeft = hunk.newLines;
      while ((oldLeft > 0 || newLeft > 0) && i + 1 < lines.length) {
        const body = lines[i + 1]!;
        const c = body[0];
        if (c === ' ' || body === '' || body === '\r') {
          oldLeft--;
          newLeft--;
        } else if (c === '-') oldLeft--;
        else if (c === '+') newLeft--;
        else if (c !== '\\') break;
        hunk.lines.push(body === '' ? ' ' : body);
        i++;
      }
      // A "\ No newline at end of file" marker belongs to the hunk just read.
      while ((lines[i + 1] ?? '').startsWith('\\')) hunk.lines.push(lines[++i]!);
      cur.hunks.push(hunk);
    }
  }
  return files;
}

/** Number of lines of a hunk's post-image that come before its first change, for locating the change itself. */
export function leadingContext(h: DiffHunk): number {
  let n = 0;
  for (const l of h.lines) {
    if (l[0] !== ' ') break;
    n++;
  }
  return n;
}

/** The -/+ lines of a hunk: what it changes, whatever its context. */
function changeSignature(h: DiffHunk): string {
  return h.lines.filter((l) => l[0] === '-' || l[0] === '+').join('\n');
}

export interface HunkPlacement {
  file: string;
  /** Hunk number in the posted patch. */
  hunk: number;
  headerFunction: string;
  /** Old-side start in the applied commit minus old-side start in the posted patch. */
  offset: number;
  /** First line of the hunk (context included) in the resulting file. */
  landedStart: number;
  /** git's own @@ function for the applied hunk (the landing spot, by git's rules). */
  appliedHeaderFunction: string;
}

/**
 * Pair each posted hunk with the hunk of the applied commit that makes the
 * same change (same file, same -/+ lines), to learn where git am put it.
 * Posted hunks without a counterpart (git diffed them differently) are left out.
 */
export function placeHunks(posted: readonly FileDiff[], applied: readonly FileDiff[]): HunkPlacement[] {
  const out: HunkPlacement[] = [];
  for (const pf of posted) {
    const file = diffPath(pf);
    const af = applied.find((a) => diffPath(a) === file);
    if (!af) continue;
    const used = new Set<DiffHunk>();
    for (const ph of pf.hunks) {
      const sig = changeSignature(ph);
      const ah = af.hunks.find((h) => !used.has(h) && changeSignature(h) === sig);
      if (!ah) continue;
      used.add(ah);
      // Context may differ in length at a file edge; compare where the changes start.
      const offset = ah.oldStart + leadingContext(ah) - (ph.oldStart + leadingContext(ph));
      out.push({
        file,
        hunk: ph.number,
        headerFunction: ph.headerFunction,
        offset,
        landedStart: ah.newStart + leadingContext(ah) - leadingContext(ph),
        appliedHeaderFunction: ah.headerFunction,
      });
    }
  }
  return out;
}

export type HunkStatus = 'succeeded' | 'failed' | 'ignored';

export interface PatchHunkOutcome {
  hunk: number;
  status: HunkStatus;
  /** Line in the output file where the hunk's first line (context included) went, or would have. */
  line: number;
  fuzz: number;
  offset: number;
}

export interface PatchFileOutcome {
  /** As GNU patch names it (the new name for a rename). */
  file: string;
  hunks: PatchHunkOutcome[];
}

export interface GnuPatchOutcome {
  files: PatchFileOutcome[];
  /** Lines saying something went wrong beyond a failed hunk (missing file, malformed patch, binary diff). */
  problems: string[];
}

const PATCHING = /^(?:patching|checking) (?:file|symbolic link) (.+?)(?: \((?:renamed|copied|read) from .+\))?$/;
const HUNK_RESULT = /^Hunk #(\d+) (succeeded|FAILED|ignored|NOT MERGED) at (-?\d+)(?: with fuzz (\d+))?(?: \(offset (-?\d+) lines?\))?/;
const PROBLEM = /can't find file to patch|No file to patch|git binary diffs are not supported|malformed patch|Only garbage was found|can't change file type|Not deleting file|hunks? ignored|Reversed \(or previously applied\)|refusing to patch|\*\*\*\*/;

/**
 * Read GNU patch's report (run with --quoting-style=literal so names are bare):
 *   "Hunk #2 succeeded at 1234 with fuzz 2 (offset 12 lines)."  "Hunk #1 FAILED at 56."
 * The offset is relative to the hunk's own @@ line number, not to the previous hunk.
 */
export function parseGnuPatchOutput(out: string): GnuPatchOutcome {
  const files: PatchFileOutcome[] = [];
  const problems: string[] = [];
  let cur: PatchFileOutcome | undefined;
  for (const line of out.split('\n').map((l) => l.replace(/\r$/, ''))) {
    const p = PATCHING.exec(line);
    if (p) {
      cur = { file: p[1]!, hunks: [] };
      files.push(cur);
      continue;
    }
    const h = HUNK_RESULT.exec(line);
    if (h && cur) {
      cur.hunks.push({
        hunk: Number(h[1]),
        status: h[2] === 'succeeded' ? 'succeeded' : h[2] === 'ignored' ? 'ignored' : 'failed',
        line: Number(h[3]),
        fuzz: h[4] === undefined ? 0 : Number(h[4]),
        offset: h[5] === undefined ? 0 : Number(h[5]),
      });
      continue;
    }
    if (PROBLEM.test(line)) problems.push(line.trim());
  }
  return { files, problems };
}
