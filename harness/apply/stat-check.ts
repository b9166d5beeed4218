// A patch mail states its own size: git format-patch writes a diffstat
// (" fs/x.c | 12 ++++--" lines and " 2 files changed, 10 insertions(+), 3
// deletions(-)") between the "---" line and the diff. A mail cut short (a
// truncated mbox, a mangled download) still applies when the cut falls
// between two files, so every patch is checked against its own diffstat
// before it is applied or built: a diff shorter than its stat is refused.
import { tmpdir } from 'node:os';
import { usageError } from '../util/errors.ts';
import { runGit } from '../util/git.ts';
import { runCommand, type CommandRunner } from '../util/proc.ts';
import { diffStatOf } from './diffstat.ts';
import { messageBody } from '../mail/mbox.ts';
import type { DiffStat } from './apply-types.ts';
import type { MailMessage } from '../mail/mail-types.ts';

/** What a mail's diffstat block says; fields absent when the block does not say. */
export interface StatedDiffStat {
  /** From the summary line. */
  files?: number;
  insertions?: number;
  deletions?: number;
  /** Per-file lines: the path as printed (maybe ".../"-shortened or "a => b") and its changed-line count (undefined for "Bin"). */
  perFile: { path: string; changes?: number }[];
}

const SUMMARY = /^ ?(\d+) files? changed(?:, (\d+) insertions?\(\+\))?(?:, (\d+) deletions?\(-\))?\s*$/;
const FILE_LINE = /^ (.+?) +\| +(?:(\d+)(?: [+-]*)?|Bin\b.*)\s*$/;
const DIFF_START = /^(?:diff |--- |Index: |@@ )/;

/**
 * The diffstat a patch mail's body (transfer-decoded) states about itself;
 * undefined when it has none. Only the block between the first "---" line
 * and the first diff line is read, as git mailinfo splits a mail.
 */
export function statedDiffStat(body: string): StatedDiffStat | undefined {
  const lines = body.split(/\r?\n/);
  const sep = lines.findIndex((l) => l === '---');
  if (sep < 0) return undefined;
  const stated: StatedDiffStat = { perFile: [] };
  let summary = false;
  for (const line of lines.slice(sep + 1)) {
    if (DIFF_START.test(line)) break;
    const s = SUMMARY.exec(line);
    if (s) {
      summary = true;
      stated.files = Number(s[1]);
      stated.insertions = Number(s[2] ?? 0);
      stated.deletions = Number(s[3] ?? 0);
      break; // the per-file lines come before the summary
    }
    const f = FILE_LINE.exec(line);
    if (f) stated.perFile.push({ path: f[1]!.trim(), ...(f[2] !== undefined ? { changes: Number(f[2]) } : {}) });
  }
  // Lines that look like "x | 3" without a summary are prose, not a diffstat.
  return summary ? stated : undefined;
}

function parseNumstat(out: string): DiffStat {
  const files = out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [a, d, ...p] = l.split('\t');
      // "-\t-\tpath": a binary file.
      return { path: p.join('\t'), insertions: a === '-' ? 0 : Number(a), deletions: d === '-' ? 0 : Number(d) };
    });
  return { files, insertions: files.reduce((n, f) => n + f.insertions, 0), deletions: files.reduce((n, f) => n + f.deletions, 0) };
}

/** The diff's own numbers: git apply --numstat where git can read the diff, else kseries' parser. */
export async function actualDiffStat(body: string, run: CommandRunner = runCommand): Promise<DiffStat> {
  // Outside any repository: in a repository's subdirectory git apply would prefix the paths.
  const r = await runGit(tmpdir(), ['apply', '--numstat'], { run, config: 'plain', input: Buffer.from(body, 'utf8') });
  // git refuses a diff cut inside a hunk ("corrupt patch"); the parser still counts what is there.
  return r.exitCode === 0 ? parseNumstat(r.stdout) : diffStatOf(body);
}

/** The path a per-file stat line ends up at: the new name of "a => b" or "dir/{a => b}/x". */
function statPath(p: string): string {
  const brace = /^(.*)\{(.*) => (.*)\}(.*)$/.exec(p);
  if (brace) return `${brace[1]}${brace[3]}${brace[4]}`.replace(/\/\//g, '/');
  const arrow = p.indexOf(' => ');
  return arrow >= 0 ? p.slice(arrow + 4) : p;
}

function matches(statName: string, path: string): boolean {
  const p = statPath(statName);
  // git shortens long names to ".../tail".
  return p.startsWith('...') ? path.endsWith(p.slice(3)) : path === p;
}

const MINUS = '-';
const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

/** Why `actual` is shorter than what the mail states, or undefined when it is not. */
export function shortfall(stated: StatedDiffStat, actual: DiffStat): string | undefined {
  const files = stated.files ?? stated.perFile.length;
  const ins = stated.insertions ?? 0;
  const del = stated.deletions ?? 0;
  if (actual.files.length < files || actual.insertions < ins || actual.deletions < del) {
    return (
      `the mail's diffstat says ${plural(files, 'file')}, +${ins}/${MINUS}${del}, ` +
      `its diff has ${plural(actual.files.length, 'file')}, +${actual.insertions}/${MINUS}${actual.deletions} (truncated?)`
    );
  }
  for (const f of stated.perFile) {
    const got = actual.files.filter((a) => matches(f.path, a.path));
    if (got.length === 0) return `the mail's diffstat lists ${f.path}, its diff does not touch it (truncated?)`;
    const changes = got.reduce((n, a) => n + a.insertions + a.deletions, 0);
    if (f.changes !== undefined && changes < f.changes) {
      return `the mail's diffstat says ${f.path} changes ${plural(f.changes, 'line')}, its diff changes ${changes} (truncated?)`;
    }
  }
  return undefined;
}

/** A patch as the check names it. */
export interface StatCheckPatch {
  index: number;
  total?: number;
  title: string;
  message: MailMessage;
}

/**
 * Refuse (exit 2) the first patch whose diff is shorter than the diffstat
 * its own mail states. Mails without a diffstat pass unchecked.
 */
export async function checkStatedDiffStats(patches: readonly StatCheckPatch[], run: CommandRunner = runCommand): Promise<void> {
  for (const p of patches) {
    const body = messageBody(p.message.raw);
    const stated = statedDiffStat(body);
    if (!stated) continue;
    const why = shortfall(stated, await actualDiffStat(body, run));
    if (why) throw usageError(`patch ${p.index}/${p.total ?? patches.length} "${p.title}" <${p.message.messageId}>: ${why}`);
  }
}
