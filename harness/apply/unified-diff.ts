// The one unified-diff parser: the diffstat, the series summary, the hunk
// report and the appliers all read patches through it, so they agree on
// which file a section names. Paths follow patch -p1 (and git apply's
// default): the first component of a ---/+++ or "diff --git" name is
// dropped, whatever it is ("a/", "linux-5.9.orig/"); "rename from/to"
// names are already bare. Hunk bodies are read by their @@ line counts, so
// neither a "---" diffstat line of the commit message nor the "-- "
// signature after the diff is mistaken for a diff line.

export interface DiffHunk {
  /** 1-based within its file section, as GNU patch counts them. */
  number: number;
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** Text after the second "@@" ('' when none). */
  headerFunction: string;
  /** Body lines with their ' ', '-', '+' or '\' prefix (a blank line a mailer ate becomes ' '). */
  lines: string[];
}

/** One file's section of a diff. */
export interface FileDiff {
  /** Path with the first component stripped; null for a created file. */
  oldPath: string | null;
  /** Path with the first component stripped; null for a deleted file. */
  newPath: string | null;
  hunks: DiffHunk[];
  /** The abbreviated blob hashes of git's "index OLD..NEW" line, when there is one. */
  oldBlob?: string;
  newBlob?: string;
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

/** Lines a section adds and removes. */
export const addedLines = (f: FileDiff) => f.hunks.reduce((n, h) => n + h.lines.filter((l) => l[0] === '+').length, 0);
export const removedLines = (f: FileDiff) => f.hunks.reduce((n, h) => n + h.lines.filter((l) => l[0] === '-').length, 0);

/** Undo git's C-style quoting of a path ("a/t\303\244st" with octal escapes); unquoted names are returned as they are. */
export function unquote(s: string): string {
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

/** patch -p1: drop the first path component ("linux-5.9.orig/fs/x.c" → fs/x.c); a bare name stays. */
function stripOne(p: string): string {
  const slash = p.indexOf('/');
  return slash >= 0 ? p.slice(slash + 1) : p;
}

/** "a/fs/io_uring.c\t2020-..." → "fs/io_uring.c"; "/dev/null" → null. */
export function headerPath(raw: string): string | null {
  const s = unquote(raw.replace(/\r$/, '').replace(/\t.*$/, '').trimEnd());
  if (s === '/dev/null') return null;
  return stripOne(s);
}

/** The two names of a "diff --git X Y" line, -p1; the names may contain spaces or be quoted. */
function gitPaths(rest: string): [string, string] {
  const quoted = /^("(?:[^"\\]|\\.)*"|\S+) ("(?:[^"\\]|\\.)*"|\S+)$/.exec(rest);
  if (quoted && (quoted[1]!.startsWith('"') || quoted[2]!.startsWith('"'))) return [stripOne(unquote(quoted[1]!)), stripOne(unquote(quoted[2]!))];
  // Same name on both sides (the usual case): split in the middle.
  const half = (rest.length - 1) / 2;
  if (Number.isInteger(half) && rest[half] === ' ' && stripOne(rest.slice(0, half)) === stripOne(rest.slice(half + 1))) {
    const p = stripOne(rest.slice(0, half));
    return [p, p];
  }
  const m = /^[^/ ]+\/(.*?) [^/ ]+\/(.*)$/.exec(rest);
  return m ? [m[1]!, m[2]!] : [stripOne(rest), stripOne(rest)];
}

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$/;

/**
 * Parse the unified diffs in a patch (git or plain), ignoring everything
 * around them (commit message, diffstat, the "-- " signature).
 */
export function parseUnifiedDiff(text: string): FileDiff[] {
  const lines = text.split('\n');
  const files: FileDiff[] = [];
  let cur: FileDiff | undefined;
  // cur came from "diff --git" and its extended header lines are still being read.
  let gitHeader = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.startsWith('diff --git ')) {
      // These names are a fallback for sections without ---/+++ (renames, mode changes, binaries).
      const [oldPath, newPath] = gitPaths(line.slice('diff --git '.length));
      cur = { oldPath, newPath, hunks: [] };
      files.push(cur);
      gitHeader = true;
      continue;
    }
    if (line.startsWith('--- ') && (lines[i + 1] ?? '').startsWith('+++ ')) {
      // A plain (non-git) diff: the ---/+++ pair starts the file.
      if (!cur || !gitHeader) {
        cur = { oldPath: null, newPath: null, hunks: [] };
        files.push(cur);
      }
      cur.oldPath = headerPath(line.slice(4));
      cur.newPath = headerPath(lines[i + 1]!.slice(4));
      gitHeader = false;
      i++;
      continue;
    }
    if (cur && gitHeader) {
      const name = /^(rename|copy) (from|to) (.*)$/.exec(line);
      if (name) {
        if (name[2] === 'from') cur.oldPath = unquote(name[3]!);
        else cur.newPath = unquote(name[3]!);
      } else if (line.startsWith('new file mode')) cur.oldPath = null;
      else if (line.startsWith('deleted file mode')) cur.newPath = null;
      else if (/^index [0-9a-f]+\.\.[0-9a-f]+/.test(line)) {
        const [a, b] = line.slice('index '.length).split(/\.\.| /);
        cur.oldBlob = a!;
        cur.newBlob = b!;
      }
    }
    const h = HUNK_HEADER.exec(line);
    if (h && cur) {
      gitHeader = false;
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
