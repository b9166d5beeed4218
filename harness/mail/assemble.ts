// Thread assembly: from any message of a posted series (cover, patch or a reply
// to one), find the cover and patches 1..N of the wanted revision, with their
// diffstats. Subject parsing, the thread graph and revision selection are in
// subject.ts, thread-graph.ts and revisions.ts.
import { diffStatOf } from '../apply/diffstat.ts';
import { usageError } from '../util/errors.ts';
import type { MailMessage, Series, SeriesPatch } from './mail-types.ts';
import { messageBody } from './mbox.ts';
import { chooseRevision, titleOf } from './revisions.ts';
import { parseSubject } from './subject.ts';

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
