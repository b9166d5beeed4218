// Which patches a variant applies, in order: series read at run time from
// the given sources (or lore), patch files of a profile, a directory of
// .patch files, or a git range of the tree.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { CacheStore } from '../cache/store.ts';
import type { PatchToApply } from '../apply/apply-series.ts';
import { decodeMaybeGzip, headBlock, messageHeaders, parseHeaders, parseMessage, splitMbox } from '../mail/mbox.ts';
import type { MailMessage, Series } from '../mail/mail-types.ts';
import { loadSeries, MessageListSource, openSources, type MailSource, type SourceSpec } from '../mail/sources.ts';
import { checkStatedDiffStats } from '../apply/stat-check.ts';
import { parseSubject } from '../mail/subject.ts';
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
}

/**
 * Patch mails as git format-patch writes them: Message-IDs are optional
 * there, so a missing one is made up from the file name.
 */
export function parsePatchMails(data: Buffer | string, label: string): MailMessage[] {
  const raws = splitMbox(data);
  if (raws.length === 0) throw usageError(`${label} is not a patch mail: it does not start with a "From " line`);
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

/** `--series MSGID` with -v/-P/--drop, looked up in --mbox/--maildir/--inbox or lore. */
export async function messageIdPatches(
  messageId: string,
  opts: { revision?: number; select?: string; drop?: readonly number[] },
  inputs: SeriesInputs,
): Promise<PatchList> {
  const s = await seriesByMessageId(messageId, opts, await sourceOpener(inputs)(), inputs);
  return checked({ patches: fromSeries(s), series: [s], describe: `<${messageId}> v${s.revision}` });
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
