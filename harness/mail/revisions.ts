// Revision selection: which postings are revisions of one series (same
// sender, same title, dates in order), and which of them is wanted.
// Header-only, like the thread graph.
import { usageError } from '../util/errors.ts';
import { normalizeTitle, parseSubject, senderAddress } from './subject.ts';
import { findPostings, postingOf, type Posting, type ThreadHeaders } from './thread-graph.ts';

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

export interface RevisionInfo {
  revision: number;
  rootId: string;
  total: number;
  date: string;
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

/** The title of a posting: its cover's, else that of patch 1, else its root id. */
export function titleOf<T extends ThreadHeaders>(p: Posting<T>): string {
  if (p.coverTitle !== undefined) return p.coverTitle;
  const first = p.patches.get(1)?.[0] ?? [...p.patches.values()][0]?.[0];
  return first ? parseSubject(first.subject).title : p.rootId;
}
