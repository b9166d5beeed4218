// Per-file insertions/deletions of the unified diff in a patch e-mail, and of
// a whole series, from the one diff parser (unified-diff.ts), so a summary
// names files as the appliers do.
import type { DiffStat, FileStat } from './apply-types.ts';
import { addedLines, diffPath, removedLines, parseUnifiedDiff, type DiffHunk } from './unified-diff.ts';

function statOf(files: FileStat[]): DiffStat {
  return {
    files,
    insertions: files.reduce((n, f) => n + f.insertions, 0),
    deletions: files.reduce((n, f) => n + f.deletions, 0),
  };
}

/** The diffstat of one patch e-mail body, like git apply --numstat. */
export function diffStatOf(body: string): DiffStat {
  return statOf(parseUnifiedDiff(body).map((f) => ({ path: diffPath(f), insertions: addedLines(f), deletions: removedLines(f) })));
}

// Replaying a series over a file whose base text is unknown: base lines are
// kept as ranges of line numbers, lines the series removes keep their text
// (invisible to later hunks), lines it adds are visible with their text.
type Item =
  | { k: 'base'; from: number; to: number }
  | { k: 'gone'; text: string }
  | { k: 'new'; text: string };

interface FileState {
  items: Item[];
  /** Every diff of the file had no hunks (binary or mode-only change). */
  noHunks: boolean;
}

/** Index of the item holding visible line `n` (1-based) as a single item; items.length past the end. */
function visibleLine(items: Item[], n: number): number {
  let seen = 0;
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    if (it.k === 'gone') continue;
    const len = it.k === 'base' ? it.to - it.from : 1;
    if (seen + len < n) {
      seen += len;
      continue;
    }
    if (it.k === 'new') return i;
    // Split the base range so that line n is an item of its own.
    const at = it.from + (n - seen - 1);
    const parts: Item[] = [];
    if (at > it.from) parts.push({ k: 'base', from: it.from, to: at });
    parts.push({ k: 'base', from: at, to: at + 1 });
    if (at + 1 < it.to) parts.push({ k: 'base', from: at + 1, to: it.to });
    items.splice(i, 1, ...parts);
    return at > it.from ? i + 1 : i;
  }
  return items.length;
}

/** Visible line number of the item at `idx`. */
function lineNumberAt(items: Item[], idx: number): number {
  let n = 1;
  for (let i = 0; i < idx; i++) {
    const it = items[i]!;
    if (it.k === 'base') n += it.to - it.from;
    else if (it.k === 'new') n += 1;
  }
  return n;
}

function applyHunk(items: Item[], h: DiffHunk, delta: number): void {
  // "-a,0" inserts after line a; otherwise the hunk starts at line a.
  const first = (h.oldLines === 0 ? h.oldStart + 1 : h.oldStart) + delta;
  let idx = visibleLine(items, first);
  for (const l of h.lines) {
    if (l[0] === '\\') continue; // "\ No newline at end of file"
    if (l[0] === '+') {
      items.splice(idx, 0, { k: 'new', text: l.slice(1) });
      idx++;
      continue;
    }
    idx = visibleLine(items, lineNumberAt(items, idx));
    const it = items[idx];
    if (it === undefined) break; // the hunk runs past what we know of the file
    if (l[0] === ' ') idx++;
    else if (it.k === 'new') items.splice(idx, 1); // the series takes back its own line
    else {
      items[idx] = { k: 'gone', text: l.slice(1) };
      idx++;
    }
  }
}

function lcsLength(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  let prev = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    const row = new Array<number>(b.length + 1).fill(0);
    for (let j = 0; j < b.length; j++) row[j + 1] = x === b[j] ? prev[j]! + 1 : Math.max(prev[j + 1]!, row[j]!);
    prev = row;
  }
  return prev[b.length]!;
}

/** Insertions and deletions between the base and the replayed file, diffing each stretch between kept base lines. */
function countChanges(items: readonly Item[]): { insertions: number; deletions: number } {
  let insertions = 0;
  let deletions = 0;
  let gone: string[] = [];
  let fresh: string[] = [];
  const flush = () => {
    // A line removed and added back in the same place is no change at all.
    const same = lcsLength(gone, fresh);
    insertions += fresh.length - same;
    deletions += gone.length - same;
    gone = [];
    fresh = [];
  };
  for (const it of items) {
    if (it.k === 'base') flush();
    else if (it.k === 'gone') gone.push(it.text);
    else fresh.push(it.text);
  }
  flush();
  return { insertions, deletions };
}

/**
 * The diffstat of a whole series as `git diff base..tip --stat` shows it, from
 * the patch bodies alone: each patch is replayed by its hunk line numbers over
 * a file whose base text is unknown, so a line one patch adds and a later one
 * reworks counts once, and a file the series leaves as it was is not listed.
 */
export function netDiffStat(bodies: readonly string[]): DiffStat {
  const state = new Map<string, FileState>();
  for (const body of bodies) {
    for (const f of parseUnifiedDiff(body)) {
      const created = f.oldPath === null;
      const from = f.oldPath ?? diffPath(f);
      const st = (!created && state.get(from)) || { items: created ? [] : [{ k: 'base', from: 1, to: Infinity }], noHunks: true };
      state.delete(from);
      state.set(diffPath(f), st);
      let delta = 0;
      for (const h of f.hunks) {
        applyHunk(st.items, h, delta);
        delta += h.lines.filter((l) => l[0] === '+').length - h.lines.filter((l) => l[0] === '-').length;
        st.noHunks = false;
      }
    }
  }
  const files: FileStat[] = [];
  for (const [path, st] of state) {
    const c = countChanges(st.items);
    if (c.insertions + c.deletions > 0 || st.noHunks) files.push({ path, ...c });
  }
  return statOf(files);
}
