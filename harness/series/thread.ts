// Thread assembly: from any message of a posted series (cover, patch or a reply
// to one), find the cover and patches 1..N of the wanted revision.
//
// Real threads are messy (see the io-uring archive): replies quote patch
// subjects ("Re: [PATCH 1/9] ..."), other people post their own
// "[PATCH 4/9 next]" into the thread, and revisions may carry no version tag
// on the patches at all, only a trailing "v4" on an unprefixed cover. So a
// patch is a non-reply "[PATCH M/N]" message from the cover's sender that
// threads to that cover, and its revision comes from its own tag, else the
// cover's, else 1.
//
// Everything here except assembleSeries needs only headers, so the
// public-inbox index can use it without loading message bodies.
import { usageError } from '../util/errors.ts';
import { diffStatOf } from './diffstat.ts';
import { messageBody } from './mbox.ts';
import type { MailMessage, Series, SeriesPatch } from './model.ts';

/** The headers thread assembly looks at. MailMessage and index entries both have them. */
export type ThreadHeaders = Pick<MailMessage, 'messageId' | 'inReplyTo' | 'references' | 'subject' | 'from' | 'date'>;
export type ThreadLinks = Pick<MailMessage, 'messageId' | 'inReplyTo' | 'references'>;

export interface SubjectInfo {
  /** "Re:", "RE:", "Aw:", "Fwd:"... in front. */
  reply: boolean;
  /** Has a [PATCH ...]/[RFC ...] prefix or an M/N counter. */
  patchTag: boolean;
  /** From a "vN" tag in the prefix, or a trailing " vN" on an unnumbered subject. */
  revision?: number;
  /** "3" and "11" of "[PATCH v2 3/11]"; 0 for a cover "0/11". */
  index?: number;
  total?: number;
  /** The subject without prefixes (and without a trailing " vN" revision). */
  title: string;
}

const REPLY_PREFIX = /^(?:re|aw|sv|antw|vs|fwd?|fw)\s*(?:\[\d+\])?\s*:\s*/i;
const BRACKET = /^\[([^\]]*)\]\s*/;

/** Parse "[RFC PATCH v3 0/4] title", "Re: [PATCH 4/9 next] title", "title v4"... */
export function parseSubject(subject: string): SubjectInfo {
  let s = subject.replace(/\s+/g, ' ').trim();
  let reply = false;
  let patchTag = false;
  let revision: number | undefined;
  let index: number | undefined;
  let total: number | undefined;
  for (;;) {
    const re = REPLY_PREFIX.exec(s);
    if (re) {
      reply = true;
      s = s.slice(re[0].length);
      continue;
    }
    const br = BRACKET.exec(s);
    if (!br) break;
    s = s.slice(br[0].length);
    for (const tok of br[1]!.split(/[\s,]+/)) {
      const count = /^0*(\d+)\/0*(\d+)$/.exec(tok);
      const ver = /^-?(?:patch|rfc|patchset|resend)?v(\d+)$/i.exec(tok);
      if (count) {
        index = Number(count[1]);
        total = Number(count[2]);
        patchTag = true;
      } else if (ver) {
        revision ??= Number(ver[1]);
        if (/^(patch|rfc)/i.test(tok)) patchTag = true;
      } else if (/^(patch|patchset|rfc)/i.test(tok)) patchTag = true;
    }
  }
  // "let import_iovec deal with compat_iovecs as well v4": covers without a
  // [PATCH] prefix put the revision at the end.
  if (revision === undefined && (index === undefined || index === 0)) {
    const tail = / v(\d+)$/i.exec(s);
    if (tail) {
      revision = Number(tail[1]);
      s = s.slice(0, tail.index);
    }
  }
  return {
    reply,
    patchTag,
    ...(revision !== undefined ? { revision } : {}),
    ...(index !== undefined ? { index } : {}),
    ...(total !== undefined ? { total } : {}),
    title: s.trim(),
  };
}

/** The e-mail address of a From header, lower case ("Christoph Hellwig <hch@lst.de>" → hch@lst.de). */
export function senderAddress(from: string): string {
  const m = /<([^<>]+)>/.exec(from);
  return (m ? m[1]! : from.replace(/\(.*\)/, '')).trim().toLowerCase();
}

/** Titles compare case- and white-space-insensitively. */
export function normalizeTitle(title: string): string {
  return title.replace(/\s+/g, ' ').trim().toLowerCase();
}

/**
 * Reply links between messages, for finding whole threads. Ids that are only
 * referenced (a cover sent to another list) are nodes too, so a thread whose
 * root is missing still holds together.
 */
export class ThreadGraph<T extends ThreadLinks> {
  private readonly byId = new Map<string, T>();
  private readonly edges = new Map<string, Set<string>>();

  constructor(entries: Iterable<T>) {
    for (const e of entries) {
      if (this.byId.has(e.messageId)) continue;
      this.byId.set(e.messageId, e);
      for (const parent of parentIds(e)) this.link(e.messageId, parent);
    }
  }

  private link(a: string, b: string): void {
    if (a === b) return;
    for (const [x, y] of [[a, b], [b, a]] as const) {
      let s = this.edges.get(x);
      if (!s) this.edges.set(x, (s = new Set()));
      s.add(y);
    }
  }

  get(id: string): T | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  all(): IterableIterator<T> {
    return this.byId.values();
  }

  /**
   * Every message connected to `id` by replies, in input order; [] when `id`
   * is unknown. An id only referenced (a cover not archived here) still
   * finds the replies to it.
   */
  thread(id: string): T[] {
    if (!this.byId.has(id) && !this.edges.has(id)) return [];
    const seen = new Set([id]);
    const todo = [id];
    while (todo.length > 0) {
      for (const next of this.edges.get(todo.pop()!) ?? []) {
        if (!seen.has(next)) {
          seen.add(next);
          todo.push(next);
        }
      }
    }
    return [...this.byId.values()].filter((e) => seen.has(e.messageId));
  }
}

/** Ancestors, nearest first: In-Reply-To, then References from newest to oldest. */
function parentIds(m: ThreadLinks): string[] {
  const ids = [...(m.inReplyTo !== undefined ? [m.inReplyTo] : []), ...[...m.references].reverse()];
  return [...new Set(ids)].filter((id) => id !== m.messageId);
}

/** One posting of a series: a cover (maybe absent from the sources) and its patches. */
export interface Posting<T extends ThreadHeaders> {
  /** Cover's Message-ID, or the first patch's when the series was sent without one. */
  rootId: string;
  cover?: T;
  revision: number;
  total: number;
  sender: string;
  /** Cover title, when the cover is in the sources. */
  coverTitle?: string;
  patches: Map<number, T[]>;
}

function postingKey(rootId: string, revision: number, total: number): string {
  return `${rootId}\n${revision}\n${total}`;
}

/** Is `m` a cover-like message of `sender`: not a reply, no "M/N" counter other than 0/N? */
function coverLike(info: SubjectInfo, m: ThreadHeaders, sender: string): boolean {
  return !info.reply && senderAddress(m.from) === sender && (info.index === undefined || info.index === 0);
}

/** Group the patches among `messages` into postings. */
export function findPostings<T extends ThreadHeaders>(messages: Iterable<T>): Posting<T>[] {
  const byId = new Map<string, T>();
  const info = new Map<string, SubjectInfo>();
  for (const m of messages) {
    if (byId.has(m.messageId)) continue;
    byId.set(m.messageId, m);
    info.set(m.messageId, parseSubject(m.subject));
  }
  const postings = new Map<string, Posting<T>>();
  const add = (rootId: string, cover: T | undefined, revision: number, total: number, sender: string, index: number, m: T) => {
    const key = postingKey(rootId, revision, total);
    let p = postings.get(key);
    if (!p) {
      p = {
        rootId,
        ...(cover ? { cover, coverTitle: info.get(cover.messageId)!.title } : {}),
        revision,
        total,
        sender,
        patches: new Map(),
      };
      postings.set(key, p);
    }
    const list = p.patches.get(index) ?? [];
    if (!list.some((x) => x.messageId === m.messageId)) list.push(m);
    p.patches.set(index, list);
  };

  const rootedCovers = new Set<string>();
  for (const m of byId.values()) {
    const si = info.get(m.messageId)!;
    if (si.reply || si.index === undefined || si.index < 1 || si.total === undefined) continue;
    const sender = senderAddress(m.from);
    // Walk up through the chain of earlier patches (--chain-reply-to) to the cover.
    let rootId = m.messageId;
    let cover: T | undefined;
    for (const pid of parentIds(m)) {
      const parent = byId.get(pid);
      if (!parent) {
        // Not in the sources (e.g. the cover went to another list): still the root.
        rootId = pid;
        break;
      }
      const pi = info.get(pid)!;
      if (!pi.reply && senderAddress(parent.from) === sender && pi.index !== undefined && pi.index >= 1 && pi.total === si.total) {
        rootId = pid;
        continue;
      }
      if (coverLike(pi, parent, sender)) {
        rootId = pid;
        cover = parent;
      }
      break;
    }
    const coverInfo = cover ? info.get(cover.messageId) : undefined;
    const revision = si.revision ?? coverInfo?.revision ?? 1;
    if (cover) rootedCovers.add(cover.messageId);
    add(rootId, cover, revision, si.total, sender, si.index, m);
  }
  // A lone "[PATCH] title" (or "[PATCH v2]") is a series of one.
  for (const m of byId.values()) {
    const si = info.get(m.messageId)!;
    if (si.reply || !si.patchTag || si.index !== undefined || rootedCovers.has(m.messageId)) continue;
    add(m.messageId, undefined, si.revision ?? 1, 1, senderAddress(m.from), 1, m);
  }
  return [...postings.values()];
}

/** What makes two postings revisions of one series: same sender, same title. */
export interface SeriesIdentity {
  sender: string;
  /** Normalized cover title, when the cover is known. */
  coverTitle?: string;
  /** Normalized title of patch 1. */
  firstTitle?: string;
}

function firstPatchTitle<T extends ThreadHeaders>(p: Posting<T>): string | undefined {
  const first = p.patches.get(1)?.[0];
  return first ? normalizeTitle(parseSubject(first.subject).title) : undefined;
}

export function identityOf<T extends ThreadHeaders>(p: Posting<T>): SeriesIdentity {
  const first = firstPatchTitle(p);
  return {
    sender: p.sender,
    ...(p.coverTitle !== undefined ? { coverTitle: normalizeTitle(p.coverTitle) } : {}),
    ...(first !== undefined ? { firstTitle: first } : {}),
  };
}

/** Compare by cover titles when both postings have a cover, else by the title of patch 1. */
export function sameSeries(a: SeriesIdentity, b: SeriesIdentity): boolean {
  if (a.sender !== b.sender) return false;
  if (a.coverTitle !== undefined && b.coverTitle !== undefined) return a.coverTitle === b.coverTitle;
  return a.firstTitle !== undefined && a.firstTitle === b.firstTitle;
}

/**
 * Could this message start a posting of the identified series (its cover or
 * its patch 1)? Header-only, for scanning a large archive for other revisions.
 */
export function mayStartRevisionOf(m: ThreadHeaders, id: SeriesIdentity): boolean {
  if (senderAddress(m.from) !== id.sender) return false;
  const si = parseSubject(m.subject);
  if (si.reply) return false;
  const title = normalizeTitle(si.title);
  if (si.index === undefined || si.index === 0) return title === id.coverTitle || (si.patchTag && title === id.firstTitle);
  return si.index === 1 && title === id.firstTitle;
}

/** The posting a message belongs to: as cover or patch, else through the message it replies to. */
export function postingOf<T extends ThreadHeaders>(
  postings: readonly Posting<T>[],
  messageId: string,
  byId: ReadonlyMap<string, T>,
): Posting<T> | undefined {
  const seen = new Set<string>();
  const queue = [messageId];
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const asRoot = postings.filter((p) => p.rootId === id);
    if (asRoot.length > 0) {
      // v2 patches may be sent in reply to the v1 cover: prefer the cover's own revision.
      const m = byId.get(id);
      const rev = m ? parseSubject(m.subject).revision ?? 1 : undefined;
      return asRoot.find((p) => p.revision === rev) ?? asRoot[0];
    }
    const asPatch = postings.find((p) => [...p.patches.values()].some((l) => l.some((x) => x.messageId === id)));
    if (asPatch) return asPatch;
    const m = byId.get(id);
    if (m) queue.push(...parentIds(m));
  }
  return undefined;
}

export interface RevisionInfo {
  revision: number;
  rootId: string;
  total: number;
  date: string;
}

export interface AssembleOptions {
  /** Pick this revision instead of the latest. */
  revision?: number;
  /** Patches to keep, e.g. "1-3,5". */
  select?: string;
  /** Patch numbers to leave out. */
  drop?: readonly number[];
}

/** Parse "1-3,5" into [1, 2, 3, 5]. */
export function parsePatchSelection(spec: string, total: number): number[] {
  const out = new Set<number>();
  for (const part of spec.split(',').map((s) => s.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw usageError(`bad patch selection '${spec}': expected numbers and ranges like 1-3,5`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a < 1 || b < a || b > total) throw usageError(`bad patch selection '${spec}': the series has patches 1-${total}`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** "1-3,5,7-9" */
export function formatRanges(ns: readonly number[]): string {
  const sorted = [...new Set(ns)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j;
  }
  return parts.join(',');
}

function dateValue(d: string): number {
  const t = Date.parse(d);
  return Number.isNaN(t) ? 0 : t;
}

function postingDate<T extends ThreadHeaders>(p: Posting<T>): string {
  return p.cover?.date ?? p.patches.get(1)?.[0]?.date ?? [...p.patches.values()][0]?.[0]?.date ?? '';
}

export interface SeriesChoice<T extends ThreadHeaders> {
  chosen: Posting<T>;
  /** Every revision of the series found, oldest first. */
  revisions: RevisionInfo[];
}

/** Find the posting `messageId` belongs to and pick the wanted revision among its siblings. */
export function chooseRevision<T extends ThreadHeaders>(
  messages: readonly T[],
  messageId: string,
  revision?: number,
): SeriesChoice<T> {
  const byId = new Map(messages.map((m) => [m.messageId, m] as const));
  const postings = findPostings(messages);
  const start = postingOf(postings, messageId, byId);
  if (!start) {
    if (!byId.has(messageId)) throw usageError(`Message-ID <${messageId}> is not in the given sources`);
    throw usageError(`<${messageId}> is not part of a patch series (no [PATCH M/N] messages from its author thread to it)`);
  }
  const id = identityOf(start);
  // Generic titles ("cancellation fixes") get reused by one author for other
  // series; a revision is only a sibling if its date fits its number.
  const startDate = dateValue(postingDate(start));
  const inOrder = (p: Posting<T>) => {
    const d = dateValue(postingDate(p));
    if (d === 0 || startDate === 0) return true;
    return p.revision < start.revision ? d <= startDate : p.revision > start.revision ? d >= startDate : true;
  };
  const family = postings.filter((p) => p === start || (sameSeries(identityOf(p), id) && inOrder(p)));
  const byDate = (a: Posting<T>, b: Posting<T>) => dateValue(postingDate(a)) - dateValue(postingDate(b));
  family.sort((a, b) => a.revision - b.revision || byDate(a, b));
  const revisions = family.map((p) => ({ revision: p.revision, rootId: p.rootId, total: p.total, date: postingDate(p) }));
  const want = revision ?? Math.max(...family.map((p) => p.revision));
  const candidates = family.filter((p) => p.revision === want);
  if (candidates.length === 0) {
    const have = [...new Set(family.map((p) => `v${p.revision}`))].join(', ');
    throw usageError(`no v${want} of "${titleOf(start)}" in the given sources (found ${have})`);
  }
  // A RESEND or a re-post of the same revision: the one asked for, else the newest.
  const chosen = candidates.includes(start) ? start : candidates.sort(byDate)[candidates.length - 1]!;
  return { chosen, revisions };
}

function titleOf<T extends ThreadHeaders>(p: Posting<T>): string {
  if (p.coverTitle !== undefined) return p.coverTitle;
  const first = p.patches.get(1)?.[0] ?? [...p.patches.values()][0]?.[0];
  return first ? parseSubject(first.subject).title : p.rootId;
}

/** The "base-commit:" trailer git format-patch --base writes (cover first, then the patches). */
export function findBaseCommit(messages: readonly MailMessage[]): string | undefined {
  for (const m of messages) {
    const hit = /^base-commit: ([0-9a-f]{7,64})\s*$/m.exec(messageBody(m.raw));
    if (hit) return hit[1];
  }
  return undefined;
}

/**
 * Assemble the wanted revision of the series `messageId` belongs to: patches
 * 1..N in order (or the selected ones), each with its diffstat.
 */
export function assembleSeries(messages: readonly MailMessage[], messageId: string, opts: AssembleOptions = {}): Series {
  const { chosen } = chooseRevision(messages, messageId, opts.revision);
  const title = titleOf(chosen);
  const label = `v${chosen.revision} of "${title}"`;
  let wanted = opts.select !== undefined ? parsePatchSelection(opts.select, chosen.total) : Array.from({ length: chosen.total }, (_, i) => i + 1);
  for (const d of opts.drop ?? []) {
    if (!Number.isInteger(d) || d < 1 || d > chosen.total) throw usageError(`cannot drop patch ${d}: ${label} has patches 1-${chosen.total}`);
  }
  wanted = wanted.filter((n) => !(opts.drop ?? []).includes(n));
  if (wanted.length === 0) throw usageError(`no patches of ${label} left after --select/--drop`);

  const missing = wanted.filter((n) => (chosen.patches.get(n) ?? []).length === 0);
  if (missing.length > 0) {
    const have = [...chosen.patches.keys()];
    throw usageError(
      `${label} is missing patch${missing.length > 1 ? 'es' : ''} ${missing.map((n) => `${n}/${chosen.total}`).join(', ')}` +
        ` (found ${have.length > 0 ? formatRanges(have) : 'none'})`,
    );
  }
  const dups = wanted.filter((n) => chosen.patches.get(n)!.length > 1);
  if (dups.length > 0) {
    const n = dups[0]!;
    const ids = chosen.patches.get(n)!.map((m) => `<${m.messageId}>`).join(', ');
    throw usageError(`${label} has ${chosen.patches.get(n)!.length} different messages for patch ${n}/${chosen.total}: ${ids}`);
  }

  const patches: SeriesPatch[] = wanted.map((n) => {
    const message = chosen.patches.get(n)![0]!;
    return {
      index: n,
      total: chosen.total,
      title: parseSubject(message.subject).title,
      message,
      diffstat: diffStatOf(messageBody(message.raw)),
    };
  });
  const head = chosen.cover ?? patches[0]!.message;
  const all = [...(chosen.cover ? [chosen.cover] : []), ...[...chosen.patches.values()].map((l) => l[0]!)];
  const baseCommit = findBaseCommit(all);
  return {
    revision: chosen.revision,
    total: chosen.total,
    title,
    ...(chosen.cover ? { cover: chosen.cover } : {}),
    patches,
    ...(baseCommit !== undefined ? { baseCommit } : {}),
    author: head.from,
    date: head.date,
  };
}
