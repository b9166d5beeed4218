// Where hunks went: posted hunks paired with the applied commit's, and GNU
// patch's account of applying them (which file and hunk, with which offset
// and fuzz). Hunk numbers are 1-based within a file's section of the diff, as
// GNU patch counts them. Diffs are read by unified-diff.ts.

import { diffPath, type DiffHunk, type FileDiff } from './unified-diff.ts';

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
