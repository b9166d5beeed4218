// Faithful application of a series: each patch goes in as one commit keeping
// the mail's author, date and message, by the most exact method that works —
// git am, then git am -3, then GNU patch with fuzz. Offsets and fuzz are
// reported per hunk, with the function each hunk actually landed in; a hunk
// that landed in another function than its @@ header names is refused unless
// allowed. The first patch that cannot go in stops the run; the branch keeps
// the patches before it, for inspection.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { infraError, usageError } from '../util/errors.ts';
import { onInterrupt, runCommand, type CommandResult, type CommandRunner } from '../util/proc.ts';
import { functionKey, judgeLanding } from './funcname.ts';
import { parseGnuPatchOutput, placeHunks, type GnuPatchOutcome } from './hunks.ts';
import type { ApplyMethod, HunkReport, PatchApplyReport } from './apply-types.ts';
import type { MailMessage } from '../mail/mail-types.ts';
import { byteString, fromByteString } from '../mail/mbox.ts';
import { commitDiff, patchIdOfCommit, patchIdOfText } from './patch-id.ts';
import { diffStatOf } from './diffstat.ts';
import { diffPath, parseUnifiedDiff, touchedPaths, type FileDiff } from './unified-diff.ts';
import { git, gitFailure, identityEnv, KSERIES_IDENTITY, runGit, type GitIdentity } from '../util/git.ts';

/** What applySeries needs of a patch; a SeriesPatch fits. */
export interface PatchToApply {
  index: number;
  /** Series length, for "3/9" in messages; default the number of patches given. */
  total?: number;
  title: string;
  message: MailMessage;
}

export interface ApplySeriesOptions {
  /** A worktree from prepareWorktree(), clean, on the variant's branch. */
  worktreeDir: string;
  /** In series order. */
  patches: readonly PatchToApply[];
  /** Accept hunks that landed in another function than their @@ header names (reported misplaced). */
  allowMisplaced: boolean;
  run?: CommandRunner;
  log?: (msg: string) => void;
  /** Default kseries <kseries@localhost>. */
  committer?: GitIdentity;
  /** GNU patch --fuzz for the last resort; default 3 (with 3 context lines: any context may differ). */
  maxFuzz?: number;
}

export interface ApplySeriesResult {
  reports: PatchApplyReport[];
  /** HEAD after the last patch. */
  head: string;
}

/** The parts of a mail, as `git mailinfo` splits them (the way git am does). */
interface SplitMail {
  author: string;
  email: string;
  date: string;
  subject: string;
  /** File holding the full raw mail, for git am. */
  mailFile: string;
  /** File holding the commit message (subject, blank line, body). */
  messageFile: string;
  /** File holding the decoded patch (diffstat, diffs, signature). */
  patchFile: string;
  patch: Buffer;
  files: FileDiff[];
}

interface Ctx {
  dir: string;
  run: CommandRunner;
  env: Record<string, string>;
  tmp: string;
  maxFuzz: number;
  allowMisplaced: boolean;
  /** Set once GNU patch has been found (only looked for when a patch needs fuzz). */
  gnuPatchChecked?: boolean;
  log?: (msg: string) => void;
}

/**
 * A mail stored with CRLF on every line got them in transport: drop them,
 * so that --keep-cr keeps only carriage returns that are part of the content.
 * Every other byte is kept as it came.
 */
export function normalizeMail(raw: Buffer): Buffer {
  let text = byteString(raw);
  if (/\r\n/.test(text) && !/(^|[^\r])\n/.test(text)) text = text.replace(/\r\n/g, '\n');
  return fromByteString(text.endsWith('\n') ? text : text + '\n');
}

function label(p: PatchToApply, total: number): string {
  return `patch ${p.index}/${p.total ?? total} "${p.title}"`;
}

async function splitMail(raw: Buffer, n: number, name: string, ctx: Ctx): Promise<SplitMail> {
  const mail = normalizeMail(raw);
  const mailFile = join(ctx.tmp, `${n}.mbox`);
  const bodyFile = join(ctx.tmp, `${n}.body`);
  const patchFile = join(ctx.tmp, `${n}.patch`);
  const messageFile = join(ctx.tmp, `${n}.msg`);
  await writeFile(mailFile, mail);
  // mailinfo reads one message: without mbox's "From " separator line.
  const r = await runGit(ctx.dir, ['mailinfo', '--no-scissors', bodyFile, patchFile], {
    run: ctx.run,
    config: 'plain',
    input: mail.subarray(mail.subarray(0, 5).toString('latin1') === 'From ' ? mail.indexOf(10) + 1 : 0),
  });
  if (r.exitCode !== 0) throw usageError(gitFailure(`${name}: git mailinfo could not read the message`, r));
  const field = (k: string) => new RegExp(`^${k}: ?(.*)$`, 'm').exec(r.stdout)?.[1]?.trim() ?? '';
  const subject = field('Subject');
  const body = await readFile(bodyFile, 'utf8');
  await writeFile(messageFile, body.trim() === '' ? `${subject}\n` : `${subject}\n\n${body}`);
  // The patch as git mailinfo wrote it: bytes for git, text for reading hunks.
  const patch = await readFile(patchFile);
  return { author: field('Author'), email: field('Email'), date: field('Date'), subject, mailFile, messageFile, patchFile, patch, files: parseUnifiedDiff(patch.toString('utf8')) };
}

async function head(ctx: Ctx): Promise<string> {
  return (await git(ctx.dir, ['rev-parse', 'HEAD'], { run: ctx.run })).trim();
}

async function gitAm(mail: SplitMail, threeWay: boolean, ctx: Ctx): Promise<CommandResult> {
  const r = await runGit(
    ctx.dir,
    [
      // Match context exactly, whatever the user's apply config says.
      '-c',
      'apply.ignoreWhitespace=false',
      'am',
      '--keep-cr',
      threeWay ? '--3way' : '--no-3way',
      '--no-scissors',
      '--no-message-id',
      '--whitespace=nowarn',
      // Same series on the same base gives the same commits.
      '--committer-date-is-author-date',
      mail.mailFile,
    ],
    { run: ctx.run, env: ctx.env },
  );
  if (r.exitCode !== 0) await runGit(ctx.dir, ['am', '--abort'], { run: ctx.run, config: 'plain', env: ctx.env });
  return r;
}

/** Put back the files a failed fuzzy attempt touched; other files were not written. */
async function restoreAfterPatch(mail: SplitMail, ctx: Ctx): Promise<void> {
  const paths = touchedPaths(mail.files);
  await git(ctx.dir, ['reset', '-q', '--hard', 'HEAD'], { run: ctx.run });
  const leftovers = paths.flatMap((p) => [p, `${p}.rej`, `${p}.orig`]);
  if (leftovers.length > 0) await git(ctx.dir, ['--literal-pathspecs', 'clean', '-fq', '--', ...leftovers], { run: ctx.run });
}

interface FuzzyResult {
  ok: boolean;
  outcome: GnuPatchOutcome;
  output: string;
  /** Why it failed, as "fs/io_uring.c hunk #2 failed". */
  reason: string;
}

/** Fuzz reports and --reject-file=- are GNU patch's; another patch (busybox, BSD) would be misread. */
async function requireGnuPatch(ctx: Ctx): Promise<void> {
  if (ctx.gnuPatchChecked) return;
  const r = await ctx.run('patch', ['--version'], { env: { LC_ALL: 'C' } });
  const first = r.stdout.split('\n')[0] ?? '';
  if (r.exitCode !== 0 || !/GNU patch/.test(first)) {
    throw infraError(`the fuzzy fallback needs GNU patch; 'patch --version' said: ${first || r.spawnError || r.stderr.trim() || `exit ${r.exitCode}`}`);
  }
  ctx.gnuPatchChecked = true;
}

async function gnuPatch(mail: SplitMail, ctx: Ctx): Promise<FuzzyResult> {
  await requireGnuPatch(ctx);
  const missing = mail.files.find((f) => f.oldPath !== null && f.hunks.length > 0 && !existsSync(join(ctx.dir, f.oldPath)));
  const r = await ctx.run(
    'patch',
    ['-p1', `--fuzz=${ctx.maxFuzz}`, '--no-backup-if-mismatch', '-f', '--batch', '--reject-file=-', '--quoting-style=literal', '-i', mail.patchFile],
    // C locale: the report is parsed. PATCH_GET=0: never check files out of RCS/SCCS.
    { cwd: ctx.dir, env: { LC_ALL: 'C', PATCH_GET: '0' } },
  );
  const output = `${r.stdout}\n${r.stderr}`.trim();
  if (r.spawnError) throw infraError(`GNU patch could not run: ${r.spawnError}`);
  const outcome = parseGnuPatchOutput(output);
  const failed = outcome.files.flatMap((f) => f.hunks.filter((h) => h.status !== 'succeeded').map((h) => `${f.file} hunk #${h.hunk} failed`));
  const ok = r.exitCode === 0 && failed.length === 0 && missing === undefined && outcome.problems.length === 0;
  const reason = missing
    ? `${missing.oldPath} does not exist`
    : failed[0] ?? outcome.problems[0] ?? (output.split('\n').at(-1) || `patch exited ${r.exitCode}`);
  return { ok, outcome, output, reason };
}

/** Commit what GNU patch did, as git am would have: mail author, date and message. */
async function commitFuzzy(mail: SplitMail, ctx: Ctx): Promise<void> {
  const paths = touchedPaths(mail.files);
  await git(ctx.dir, ['--literal-pathspecs', 'add', '-A', '-f', '--', ...paths], { run: ctx.run });
  const name = mail.author || mail.email;
  const env: Record<string, string> = { ...ctx.env };
  if (mail.date) Object.assign(env, { GIT_AUTHOR_DATE: mail.date, GIT_COMMITTER_DATE: mail.date });
  await git(ctx.dir, ['commit', '-q', '--no-verify', '--cleanup=whitespace', `--author=${name} <${mail.email}>`, '-F', mail.messageFile], { run: ctx.run, env });
}

async function fileLines(ctx: Ctx, path: string): Promise<string[]> {
  try {
    return (await readFile(join(ctx.dir, path), 'utf8')).split('\n');
  } catch {
    return [];
  }
}

/** Offset hunks of a git am'd patch, found by pairing posted hunks with the commit's. */
async function amHunkReports(mail: SplitMail, applied: FileDiff[], ctx: Ctx): Promise<HunkReport[]> {
  const out: HunkReport[] = [];
  for (const p of placeHunks(mail.files, applied)) {
    if (p.offset === 0) continue;
    const judged = judgeLanding(await fileLines(ctx, p.file), p.landedStart, p.headerFunction, [p.appliedHeaderFunction]);
    out.push({ file: p.file, hunk: p.hunk, headerFunction: p.headerFunction, offset: p.offset, fuzz: 0, ...judged });
  }
  return out;
}

/** Fuzzed or offset hunks as GNU patch reported them. */
async function fuzzyHunkReports(mail: SplitMail, outcome: GnuPatchOutcome, applied: FileDiff[], ctx: Ctx): Promise<HunkReport[]> {
  const placements = placeHunks(mail.files, applied);
  const out: HunkReport[] = [];
  for (const [i, f] of outcome.files.entries()) {
    const section = mail.files.find((d) => d.newPath === f.file || d.oldPath === f.file) ?? mail.files[i];
    const file = section ? diffPath(section) : f.file;
    for (const h of f.hunks) {
      if (h.status !== 'succeeded' || (h.fuzz === 0 && h.offset === 0)) continue;
      const headerFunction = section?.hunks[h.hunk - 1]?.headerFunction ?? '';
      const gitHeader = placements.find((p) => p.file === file && p.hunk === h.hunk)?.appliedHeaderFunction ?? '';
      const judged = judgeLanding(await fileLines(ctx, file), h.line, headerFunction, [gitHeader]);
      out.push({ file, hunk: h.hunk, headerFunction, offset: h.offset, fuzz: h.fuzz, ...judged });
    }
  }
  return out;
}

function describeMisplaced(h: HunkReport): string {
  const where = functionKey(h.landedFunction) || h.landedFunction || 'no function';
  const how = [h.fuzz ? `fuzz ${h.fuzz}` : '', h.offset ? `offset ${h.offset}` : ''].filter(Boolean).join(', ');
  return `${h.file} hunk #${h.hunk} landed in ${where} but its @@ header names ${functionKey(h.headerFunction) || h.headerFunction}${how ? ` (${how})` : ''}`;
}

async function applyOne(p: PatchToApply, total: number, ctx: Ctx): Promise<PatchApplyReport> {
  const name = label(p, total);
  const mail = await splitMail(p.message.raw, p.index, name, ctx);
  if (mail.files.length === 0) throw usageError(`${name} holds no diff`);
  if (!mail.email) throw usageError(`${name} has no author e-mail address`);
  const before = await head(ctx);
  const patchIdPosted = await patchIdOfText(mail.patch, ctx.dir, ctx.run);

  let method: ApplyMethod;
  let fuzzy: FuzzyResult | undefined;
  const am = await gitAm(mail, false, ctx);
  let am3: CommandResult | undefined;
  if (am.exitCode === 0) method = 'am';
  else {
    am3 = await gitAm(mail, true, ctx);
    if (am3.exitCode === 0) method = 'am-3way';
    else {
      fuzzy = await gnuPatch(mail, ctx);
      if (!fuzzy.ok) {
        await restoreAfterPatch(mail, ctx);
        const detail = [`git am:\n${am.stderr || am.stdout}`, `git am -3:\n${am3.stderr || am3.stdout}`, `patch --fuzz=${ctx.maxFuzz}:\n${fuzzy.output}`].join('\n\n');
        throw usageError(`${name} does not apply: ${fuzzy.reason} (git am, git am -3 and fuzzy patch all failed)`, detail);
      }
      await commitFuzzy(mail, ctx);
      method = 'fuzzy';
    }
  }

  const commit = await head(ctx);
  // git am -3 skips a patch whose change the tree already has ("No changes -- Patch already applied").
  if (commit === before) throw usageError(`${name} changes nothing here (already in the base?); ${method} made no commit`);
  const shown = await commitDiff(commit, ctx.dir, ctx.run);
  const applied = parseUnifiedDiff(shown);
  const hunks = fuzzy ? await fuzzyHunkReports(mail, fuzzy.outcome, applied, ctx) : await amHunkReports(mail, applied, ctx);

  const misplaced = hunks.find((h) => h.misplaced);
  if (misplaced && !ctx.allowMisplaced) {
    // Refused patches are not left on the branch: it holds exactly the accepted ones.
    await git(ctx.dir, ['reset', '-q', '--hard', before], { run: ctx.run });
    throw usageError(`${name} refused: ${describeMisplaced(misplaced)}; allow with --allow-misplaced`);
  }

  const patchIdApplied = await patchIdOfCommit(commit, ctx.dir, ctx.run);
  ctx.log?.(
    `${name}: ${method}${hunks.length ? `, ${hunks.length} hunk(s) moved${hunks.some((h) => h.misplaced) ? ' (MISPLACED)' : ''}` : ''}` +
      (patchIdApplied !== patchIdPosted ? ', changed on the way in' : ''),
  );
  const files = diffStatOf(mail.patch.toString('utf8')).files;
  return { index: p.index, total: p.total ?? total, title: p.title, messageId: p.message.messageId, method, hunks, patchIdPosted, patchIdApplied, commit, files };
}

/**
 * Apply `patches` in order on the worktree's current branch, one commit each.
 * Throws a KseriesError (exit 2) naming the patch and hunk when one cannot go
 * in, or goes in misplaced without allowMisplaced; commits made before stay.
 */
export async function applySeries(opts: ApplySeriesOptions): Promise<ApplySeriesResult> {
  const run = opts.run ?? runCommand;
  const dir = opts.worktreeDir;
  const committer = opts.committer ?? KSERIES_IDENTITY;
  const ctx: Ctx = {
    dir,
    run,
    env: { ...identityEnv(committer, 'committer'), LC_ALL: 'C' },
    tmp: await mkdtemp(join(tmpdir(), 'kseries-apply-')),
    maxFuzz: opts.maxFuzz ?? 3,
    allowMisplaced: opts.allowMisplaced,
    ...(opts.log ? { log: opts.log } : {}),
  };
  const unregister = onInterrupt(() => rm(ctx.tmp, { recursive: true, force: true }));
  try {
    // A git am interrupted earlier would make every later one fail.
    const amDir = (await git(dir, ['rev-parse', '--git-path', 'rebase-apply'], { run })).trim();
    if (existsSync(resolve(dir, amDir))) await runGit(dir, ['am', '--abort'], { run, config: 'plain' });
    const dirty = (await git(dir, ['status', '--porcelain', '--untracked-files=no'], { run })).trim();
    if (dirty) throw usageError(`worktree ${dir} has uncommitted changes (${dirty.split('\n')[0]?.trim()})`);

    const reports: PatchApplyReport[] = [];
    for (const p of opts.patches) reports.push(await applyOne(p, opts.patches.length, ctx));
    return { reports, head: await head(ctx) };
  } finally {
    unregister();
    await rm(ctx.tmp, { recursive: true, force: true });
  }
}
