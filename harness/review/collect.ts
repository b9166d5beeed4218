// Collect: every revision of the series a message belongs to, and every diff
// posted in reply to any of them (a message carrying a unified diff that is
// not one of the series' own mails), with what each reply is under.
import { normalizeMessageId } from '../mail/mbox.ts';
import type { MailMessage, Series } from '../mail/mail-types.ts';
import { carriesDiff } from '../mail/posted-diff.ts';
import { assembleSeries } from '../mail/assemble.ts';
import { chooseRevision } from '../mail/revisions.ts';
import { findPostings, parentIds } from '../mail/thread-graph.ts';
import { KseriesError } from '../util/errors.ts';
import type { PatchRef, ReplyDiff, ReviewRevision } from './review-types.ts';

export interface ReviewMaterial {
  messageId: string;
  title: string;
  revisions: ReviewRevision[];
  replies: ReplyDiff[];
  /** The assembled series, by revision (complete revisions only). */
  series: Map<number, Series>;
}

const dateValue = (d: string) => {
  const t = Date.parse(d);
  return Number.isNaN(t) ? 0 : t;
};

export function patchRefs(s: Series): PatchRef[] {
  return s.patches.map((p) => ({ index: p.index, total: p.total, title: p.title, messageId: p.message.messageId }));
}

/**
 * From the messages findThread gathered for `messageIdArg` (its thread and the
 * threads of the series' other revisions): the revisions, oldest first, and the
 * reply diffs, oldest first. A message outside any series is a usage error.
 */
export function collectReview(messages: readonly MailMessage[], messageIdArg: string): ReviewMaterial {
  const messageId = normalizeMessageId(messageIdArg);
  const { chosen, revisions } = chooseRevision(messages, messageId);
  // One posting per revision number: a re-post (RESEND) replaces the earlier one, as assembleSeries picks it.
  const byNumber = new Map<number, (typeof revisions)[number]>();
  for (const r of revisions) {
    const prev = byNumber.get(r.revision);
    if (!prev || dateValue(r.date) >= dateValue(prev.date)) byNumber.set(r.revision, r);
  }
  const series = new Map<number, Series>();
  const out: ReviewRevision[] = [];
  for (const r of [...byNumber.values()].sort((a, b) => a.revision - b.revision)) {
    try {
      const s = assembleSeries(messages, r.rootId, { revision: r.revision });
      series.set(r.revision, s);
      out.push({ revision: r.revision, title: s.title, rootId: r.rootId, date: r.date, patches: patchRefs(s), toApply: s.patches.map((p) => ({ index: p.index, total: p.total, title: p.title, message: p.message })) });
    } catch (e) {
      if (!(e instanceof KseriesError)) throw e;
      out.push({ revision: r.revision, title: '', rootId: r.rootId, date: r.date, patches: [], incomplete: e.message });
    }
  }

  // Which revision (and patch) each of the series' own messages is.
  const own = new Map<string, { revision: number; patch?: number }>();
  // Every posting of the family counts, re-posts included: their mails are the series', not replies.
  const family = new Set([chosen.rootId, ...revisions.map((r) => r.rootId)]);
  for (const p of findPostings(messages)) {
    if (!family.has(p.rootId)) continue;
    own.set(p.rootId, { revision: p.revision });
    if (p.cover) own.set(p.cover.messageId, { revision: p.revision });
    for (const [index, list] of p.patches) for (const m of list) own.set(m.messageId, { revision: p.revision, patch: index });
  }
  const byId = new Map(messages.map((m) => [m.messageId, m] as const));
  const underOf = (m: MailMessage): { revision: number; patch?: number } | undefined => {
    const seen = new Set<string>();
    const queue = parentIds(m);
    while (queue.length > 0) {
      const id = queue.shift()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const hit = own.get(id);
      if (hit) return hit;
      const parent = byId.get(id);
      if (parent) queue.push(...parentIds(parent));
    }
    return undefined;
  };
  const replies: ReplyDiff[] = messages
    .filter((m) => !own.has(m.messageId) && carriesDiff(m))
    .sort((a, b) => dateValue(a.date) - dateValue(b.date) || a.messageId.localeCompare(b.messageId))
    .map((m) => {
      const under = underOf(m);
      return { messageId: m.messageId, from: m.from, subject: m.subject, date: m.date, ...(under ? { under } : {}), message: m };
    });
  const latest = out.filter((r) => !r.incomplete).at(-1);
  return { messageId, title: latest?.title ?? out.at(-1)?.title ?? '', revisions: out, replies, series };
}
