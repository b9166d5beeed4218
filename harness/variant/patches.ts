// Which patches a variant applies, in order: series read at run time from
// the given sources (or lore), patch files of a profile, a directory of
// .patch files, or a git range of the tree.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { CacheStore } from '../cache/store.ts';
import type { SourceTree } from '../kernel/tree.ts';
import type { PatchToApply } from '../apply/apply-series.ts';
import { decodeMaybeGzip, headBlock, messageHeaders, normalizeMessageId, parseHeaders, parseMessage, splitMbox } from '../mail/mbox.ts';
import { bareDiffMail, carriesDiff, isBareDiff, isPostedDiff, postedDiffTitle } from '../mail/posted-diff.ts';
import type { MailMessage, Series } from '../mail/mail-types.ts';
import { findThread, loadSeries, MessageListSource, openSources, type MailSource, type SourceSpec } from '../mail/sources.ts';
import { checkStatedDiffStats } from '../apply/stat-check.ts';
import { guessBase } from '../apply/guess-base.ts';
import { parseSubject } from '../mail/subject.ts';
import { assembleSeries, parsePatchSelection } from '../mail/assemble.ts';
import type { Profile, Variant } from '../profile/profile.ts';
import { usageError } from '../util/errors.ts';
import { runCommand, type CommandRunner } from '../util/proc.ts';
import { gitFailure, runGit } from '../util/git.ts';
import { parseRevisionRange } from '../util/revision-range.ts';

/** Where series named by Message-ID are looked up; lore is the fallback. */
export interface SeriesInputs extends SourceSpec {
  lore: boolean;
  store: CacheStore;
  onIndexing?: (gitDir: string) => void;
}

export interface PatchList {
  patches: PatchToApply[];
  /** The series these patches came from, for summaries. */
  series: Series[];
  /** Human description of where the patches come from. */
  describe: string;
  /** What was chosen and why, when the input could be read two ways (a reply's own diff, a reply without one). */
  notes?: string[];
}

/**
 * Patch mails as git format-patch writes them: Message-IDs are optional
 * there, so a missing one is made up from the file name.
 */
export function parsePatchMails(data: Buffer | string, label: string): MailMessage[] {
  let raws = splitMbox(data);
  // A bare `git diff` / `diff -u` file: a mail around it, named after the file.
  if (raws.length === 0 && isBareDiff(Buffer.from(data).toString('latin1'))) raws = splitMbox(bareDiffMail(Buffer.from(data), basename(label)));
  if (raws.length === 0) throw usageError(`${label} is neither a patch mail (it does not start with a "From " line) nor a diff`);
  return raws.map((raw, i) => {
    const m = parseMessage(raw);
    if (m) return m;
    const { messageId: _none, ...h } = messageHeaders(parseHeaders(headBlock(raw)));
    if (!h.subject) throw usageError(`${label} is not a patch mail: message ${i + 1} has no Subject`);
    return { ...h, messageId: `${basename(label)}.${i + 1}@kseries.invalid`, raw };
  });
}

async function readPatchMails(path: string): Promise<MailMessage[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    throw usageError(`cannot read ${path}`);
  }
  return parsePatchMails(decodeMaybeGzip(bytes, path), path);
}

/** A stand-alone patch mail: its subject without [PATCH ...] is its title. */
function looseMail(m: MailMessage, index: number, total: number): PatchToApply {
  return { index, total, title: parseSubject(m.subject).title || m.subject, message: m };
}

/** Open the user's sources once, lazily: an inbox index is only built when a series needs it. */
function sourceOpener(inputs: SeriesInputs): () => Promise<MailSource[]> {
  let opened: Promise<MailSource[]> | undefined;
  return () => (opened ??= openSources(inputs, { store: inputs.store, ...(inputs.onIndexing ? { onIndexing: inputs.onIndexing } : {}) }));
}

export async function seriesByMessageId(
  messageId: string,
  opts: { revision?: number; select?: string; drop?: readonly number[] },
  sources: MailSource[],
  inputs: SeriesInputs,
): Promise<Series> {
  return loadSeries(messageId, sources, { ...opts, store: inputs.store, lore: inputs.lore });
}

function fromSeries(s: Series): PatchToApply[] {
  return s.patches.map((p) => ({ index: p.index, total: p.total, title: p.title, message: p.message }));
}

/** Every list is checked against its mails' own diffstats here, before anything is applied or built. */
async function checked(list: PatchList): Promise<PatchList> {
  await checkStatedDiffStats(list.patches);
  return list;
}

export async function variantPatches(profile: Profile, variant: Variant, inputs: SeriesInputs): Promise<PatchList> {
  const open = sourceOpener(inputs);
  const out: PatchList = { patches: [], series: [], describe: `${profile.name}/${variant.name}` };
  for (const sel of variant.patches) {
    if ('message' in sel) {
      const m = await messageById(sel.message, await open(), inputs);
      if (!m) throw usageError(`${profile.name}/${variant.name}: message <${normalizeMessageId(sel.message)}> not found`);
      if (!carriesDiff(m)) throw usageError(`${profile.name}/${variant.name}: <${m.messageId}> carries no diff`);
      out.patches.push(postedPatch(m));
      continue;
    }
    if ('file' in sel) {
      const mails = await readPatchMails(join(profile.dir, sel.file));
      out.patches.push(...mails.map((m, i) => looseMail(m, i + 1, mails.length)));
      continue;
    }
    const ref = profile.series[sel.series]!;
    const sources = ref.mbox ? [new MessageListSource(ref.mbox, await readPatchMails(join(profile.dir, ref.mbox)))] : await open();
    const s = await seriesByMessageId(
      ref.messageId,
      { ...(ref.revision ? { revision: ref.revision } : {}), ...(sel.select ? { select: sel.select } : {}), ...(sel.drop ? { drop: sel.drop } : {}) },
      sources,
      inputs,
    );
    out.series.push(s);
    out.patches.push(...fromSeries(s));
  }
  return checked(out);
}

/** The message itself, from the thread the sources (or lore) hold for it. */
async function messageById(messageId: string, sources: MailSource[], inputs: SeriesInputs): Promise<MailMessage | undefined> {
  const id = normalizeMessageId(messageId);
  const thread = await findThread(id, sources, { store: inputs.store, lore: inputs.lore, revisions: false });
  return thread.find((m) => m.messageId === id);
}

/** A diff posted in a reply, as the one patch to apply. */
function postedPatch(m: MailMessage): PatchToApply {
  return { index: 1, total: 1, title: postedDiffTitle(m), message: m };
}

/**
 * `--series MSGID` with -v/-P/--drop, looked up in --mbox/--maildir/--inbox or
 * lore. A reply carrying a diff stands for that diff alone (b4 am -P _); a
 * reply without one stands for its series, and the notes say so.
 */
export async function messageIdPatches(
  messageId: string,
  opts: { revision?: number; select?: string; drop?: readonly number[] },
  inputs: SeriesInputs,
): Promise<PatchList> {
  const id = normalizeMessageId(messageId);
  // One lookup: the thread (with the series' other revisions) serves the message itself and the series.
  const messages = await findThread(id, await sourceOpener(inputs)(), { store: inputs.store, lore: inputs.lore });
  const own = messages.find((m) => m.messageId === id);
  if (own && isPostedDiff(own)) {
    if (opts.revision !== undefined || opts.select !== undefined || (opts.drop ?? []).length > 0) {
      throw usageError(`<${id}> is a reply carrying its own diff: -v, -P and --drop choose patches of a series, not of it`);
    }
    const note = `<${id}> is a reply carrying a diff: applying that diff alone (as b4 am -P _), not the series of its thread`;
    return checked({ patches: [postedPatch(own)], series: [], describe: `the diff in <${id}>`, notes: [note] });
  }
  const s = assembleSeries(messages, id, opts);
  const notes = own && parseSubject(own.subject).reply ? [`<${id}> is a reply without a diff: applying v${s.revision} of the series it belongs to (-v N for another revision)`] : [];
  return checked({ patches: fromSeries(s), series: [s], describe: `<${id}> v${s.revision}`, notes });
}

/**
 * Which commit a posted series goes onto, and a line saying why: --base when
 * given, else the series' "base-commit:" when the tree has that commit, else
 * with --guess-base the commit whose files match the patches' pre-image blobs
 * (as b4 guesses), else the tree as it is.
 */
export async function seriesBase(tree: SourceTree, list: PatchList, userBase?: string, o: { guess?: boolean; run?: CommandRunner } = {}): Promise<{ base?: string; note?: string }> {
  const run = o.run ?? runCommand;
  if (userBase) return { base: userBase, note: `base: ${userBase} (--base)` };
  const named = list.series.find((s) => s.baseCommit !== undefined)?.baseCommit;
  if (named && tree.isGit) {
    const r = await runGit(tree.srcDir, ['rev-parse', '--verify', '--quiet', `${named}^{commit}`], { run });
    if (r.exitCode === 0) return { base: r.stdout.trim(), note: `base: ${named.slice(0, 12)}, the series' base-commit:, found in the tree` };
  }
  const why = named ? `the series' base-commit: ${named.slice(0, 12)} is not in the tree` : 'the series names no base-commit:';
  if (o.guess) {
    if (!tree.isGit) return { note: `base: the tree as it is (${why}, and --guess-base needs a tree with git history)` };
    const g = await guessBase(tree.srcDir, list.patches, { run });
    if (g) return { base: g.commit, note: `base: ${g.commit.slice(0, 12)}, guessed from the patches' index lines: ${g.matched} of ${g.total} pre-image blobs match (${why}; ${g.checked} commits compared)` };
    return { note: `base: the tree as it is (${why}, and --guess-base found no commit holding any of the patches' pre-image blobs)` };
  }
  if (list.series.length === 0) return {};
  return { note: `base: the tree as it is (${why}${named ? '; --base REV or --guess-base picks one' : ''})` };
}

/** -P/--drop over a list that is not a posted series (--patches, --range): the same rules as for a series. */
export function pickPatches(list: PatchList, select: string | undefined, drop: readonly number[] = []): PatchList {
  if (select === undefined && drop.length === 0) return list;
  const total = list.patches.length;
  for (const d of drop) {
    if (!Number.isInteger(d) || d < 1 || d > total) throw usageError(`cannot drop patch ${d}: ${list.describe} has patches 1-${total}`);
  }
  const wanted = (select !== undefined ? parsePatchSelection(select, total) : list.patches.map((_, i) => i + 1)).filter((n) => !drop.includes(n));
  if (wanted.length === 0) throw usageError(`no patches of ${list.describe} left after --select/--drop`);
  return { ...list, patches: list.patches.filter((_, i) => wanted.includes(i + 1)) };
}

/** A directory of .patch files (git format-patch output), applied in name order. */
export async function directoryPatches(dir: string): Promise<PatchList> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.patch') || n.endsWith('.diff')).sort();
  } catch {
    throw usageError(`--patches ${dir}: not a readable directory`);
  }
  if (names.length === 0) throw usageError(`--patches ${dir}: no .patch files`);
  const mails: MailMessage[] = [];
  for (const n of names) {
    const ms = (await readPatchMails(join(dir, n))).filter((m) => !/^\[[^\]]*\b0+\/\d+\]/.test(m.subject));
    mails.push(...ms);
  }
  return checked({ patches: mails.map((m, i) => looseMail(m, i + 1, mails.length)), series: [], describe: `patches in ${dir}` });
}

/** `--range A..B`: the commits of the tree's own history, re-applied onto A. */
export async function rangePatches(repo: string, range: string, run: CommandRunner = runCommand): Promise<{ list: PatchList; base: string }> {
  const { from, to } = parseRevisionRange(range);
  // Into files, not --stdout: a commit's diff may hold bytes that are not UTF-8, and git am must get them as they are.
  const out = await mkdtemp(join(tmpdir(), 'kseries-range-'));
  let mails: MailMessage[];
  try {
    const r = await runGit(repo, ['format-patch', '-o', out, '--no-signature', '-k', `${from}..${to}`], { run, config: 'plain' });
    if (r.exitCode !== 0) throw usageError(gitFailure(`--range ${range}`, r));
    const names = (await readdir(out)).sort();
    if (names.length === 0) throw usageError(`--range ${range} holds no commits`);
    mails = parsePatchMails(Buffer.concat(await Promise.all(names.map((n) => readFile(join(out, n))))), `range-${range}`);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
  const list = await checked({ patches: mails.map((x, i) => looseMail(x, i + 1, mails.length)), series: [], describe: `commits ${range}` });
  return { list, base: from };
}
