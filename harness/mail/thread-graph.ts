// The thread graph: reply links between messages, and the postings (a cover
// and its patches 1..N) found among them.
//
// Real threads are messy (see the io-uring archive): replies quote patch
// subjects ("Re: [PATCH 1/9] ..."), other people post their own
// "[PATCH 4/9 next]" into the thread, and revisions may carry no version tag
// on the patches at all, only a trailing "v4" on an unprefixed cover. So a
// patch is a non-reply "[PATCH M/N]" message from the cover's sender that
// threads to that cover, and its revision comes from its own tag, else the
// cover's, else 1.
//
// Everything here needs only headers, so the public-inbox index can use it
// without loading message bodies.
import type { MailMessage } from './mail-types.ts';
import { parseSubject, senderAddress, type SubjectInfo } from './subject.ts';

/** The headers thread assembly looks at. MailMessage and index entries both have them. */
export type ThreadHeaders = Pick<MailMessage, 'messageId' | 'inReplyTo' | 'references' | 'subject' | 'from' | 'date'>;
export type ThreadLinks = Pick<MailMessage, 'messageId' | 'inReplyTo' | 'references'>;

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
export function parentIds(m: ThreadLinks): string[] {
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
