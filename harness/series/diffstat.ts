// Per-file insertions/deletions of the unified diff in a patch e-mail, and of
// a whole series. Lines are read inside hunks by the @@ line counts, so neither
// the "---" diffstat block of the commit message nor the "-- " signature after
// the diff can be mistaken for diff lines.
import type { DiffStat, FileStat } from './model.ts';

export interface Hunk {
  oldStart: number;
  oldCount: number;
  /** The hunk's lines with their ' ', '-' or '+' prefix ("\\ No newline" lines dropped). */
  lines: string[];
}

/** One file's part of a diff. */
export interface FileDiff {
  oldPath: string;
  newPath: string;
  created: boolean;
  deleted: boolean;
  hunks: Hunk[];
}

const added = (f: FileDiff) => f.hunks.reduce((n, h) => n + h.lines.filter((l) => l[0] === '+').length, 0);
const removed = (f: FileDiff) => f.hunks.reduce((n, h) => n + h.lines.filter((l) => l[0] === '-').length, 0);

/** Undo git's C-style quoting of a path ("a/t\303\251st" → a/tést). */
function unquote(p: string): string {
  if (!p.startsWith('"') || !p.endsWith('"')) return p;
  const bytes: number[] = [];
  const s = p.slice(1, -1);
  const esc: Record<string, number> = { n: 10, t: 9, '"': 34, '\\': 92, a: 7, b: 8, f: 12, r: 13, v: 11 };
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '\\') {
      bytes.push(...Buffer.from(s[i]!, 'utf8'));
      continue;
    }
    const oct = /^[0-7]{3}/.exec(s.slice(i + 1));
    if (oct) {
      bytes.push(parseInt(oct[0], 8));
      i += 3;
    } else {
      bytes.push(esc[s[i + 1]!] ?? s.charCodeAt(i + 1));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Path of a ---/+++ line: timestamps after a tab dropped, the a/ or b/ prefix stripped. */
function headerPath(rest: string): string | null {
  const p = unquote(rest.replace(/\t.*$/, '').trim());
  if (p === '/dev/null') return null;
  return p.replace(/^[ab]\//, '');
}

/** Split "a/X b/Y" of a diff --git line; the names may contain spaces or be quoted. */
function gitPaths(rest: string): [string, string] {
  const quoted = /^("(?:[^"\\]|\\.)*"|\S+) ("(?:[^"\\]|\\.)*"|\S+)$/.exec(rest);
  if (quoted && (quoted[1]!.startsWith('"') || quoted[2]!.startsWith('"'))) {
    return [unquote(quoted[1]!).replace(/^a\//, ''), unquote(quoted[2]!).replace(/^b\//, '')];
  }
  // Same name on both sides (the usual case): split in the middle.
  const half = (rest.length - 1) / 2;
  if (Number.isInteger(half) && rest[half] === ' ' && rest.slice(2, half) === rest.slice(half + 3)) {
    const p = rest.slice(2, half);
    return [p, p];
  }
  const m = /^a\/(.*?) b\/(.*)$/.exec(rest);
  return m ? [m[1]!, m[2]!] : [rest, rest];
}

/** Parse the diff(s) in a patch e-mail body (already transfer-decoded) into per-file changes. */
export function parseDiff(body: string): FileDiff[] {
  const lines = body.split(/\r?\n/);
  const files: FileDiff[] = [];
  let cur: FileDiff | null = null;
  // cur came from "diff --git" and its ---/+++ lines have not been seen yet.
  let inGitHeader = false;
  const start = (oldPath: string, newPath: string): FileDiff => {
    const f: FileDiff = { oldPath, newPath, created: false, deleted: false, hunks: [] };
    files.push(f);
    return f;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const git = /^diff --git (.*)$/.exec(line);
    if (git) {
      cur = start(...gitPaths(git[1]!));
      inGitHeader = true;
      continue;
    }
    if (line.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) {
      const oldP = headerPath(line.slice(4));
      const newP = headerPath(lines[i + 1]!.slice(4));
      // A plain (non-git) diff: the ---/+++ pair starts the file.
      if (!inGitHeader || cur === null) cur = start(oldP ?? newP ?? '', newP ?? oldP ?? '');
      if (newP === null) cur.deleted = true;
      if (oldP === null) cur.created = true;
      if (oldP !== null) cur.oldPath = oldP;
      if (newP !== null) cur.newPath = newP;
      inGitHeader = false;
      i++;
      continue;
    }
    if (cur && inGitHeader) {
      const rename = /^(?:rename|copy) (from|to) (.*)$/.exec(line);
      if (rename) {
        if (rename[1] === 'from') cur.oldPath = unquote(rename[2]!);
        else cur.newPath = unquote(rename[2]!);
      } else if (line.startsWith('deleted file mode')) cur.deleted = true;
      else if (line.startsWith('new file mode')) cur.created = true;
    }
    const hunk = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line);
    if (hunk && cur) {
      inGitHeader = false;
      const h: Hunk = { oldStart: Number(hunk[1]), oldCount: hunk[2] === undefined ? 1 : Number(hunk[2]), lines: [] };
      cur.hunks.push(h);
      let oldLeft = h.oldCount;
      let newLeft = hunk[3] === undefined ? 1 : Number(hunk[3]);
      while ((oldLeft > 0 || newLeft > 0) && i + 1 < lines.length) {
        const l = lines[++i]!;
        const c = l[0];
        if (c === '+') newLeft--;
        else if (c === '-') oldLeft--;
        else if (c === ' ' || l === '') {
          oldLeft--;
          newLeft--;
        } else if (c === '\\') continue; // "\ No newline at end of file"
        else {
          i--;
          break;
        }
        // An empty line is a context line whose trailing blank a mailer ate.
        h.lines.push(l === '' ? ' ' : l);
      }
    }
  }
  return files;
}

function statOf(files: FileStat[]): DiffStat {
  return {
    files,
    insertions: files.reduce((n, f) => n + f.insertions, 0),
    deletions: files.reduce((n, f) => n + f.deletions, 0),
  };
}

/** The diffstat of one patch e-mail body, like git apply --numstat. */
export function diffStatOf(body: string): DiffStat {
  return statOf(parseDiff(body).map((f) => ({ path: f.deleted ? f.oldPath : f.newPath, insertions: added(f), deletions: removed(f) })));
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

function applyHunk(items: Item[], h: Hunk, delta: number): void {
  // "-a,0" inserts after line a; otherwise the hunk starts at line a.
  const first = (h.oldCount === 0 ? h.oldStart + 1 : h.oldStart) + delta;
  let idx = visibleLine(items, first);
  for (const l of h.lines) {
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
    for (const f of parseDiff(body)) {
      const from = f.created ? f.newPath : f.oldPath;
      const st = (!f.created && state.get(from)) || { items: f.created ? [] : [{ k: 'base', from: 1, to: Infinity }], noHunks: true };
      state.delete(from);
      state.set(f.deleted ? f.oldPath : f.newPath, st);
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
