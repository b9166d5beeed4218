// Where series come from: --mbox, --maildir and --inbox sources, then
// lore.kernel.org for a Message-ID none of them has. findThread gathers the
// thread of a message plus other revisions of the same series (same sender,
// same cover title) that the sources hold, for revisions.ts to choose from.
import type { CacheStore } from '../cache/store.ts';
import { usageError } from '../util/errors.ts';
import { fetchLoreThread, type FetchLike } from './lore.ts';
import { readMaildir } from './maildir.ts';
import { normalizeMessageId, readMbox } from './mbox.ts';
import type { MailMessage, Series } from './mail-types.ts';
import { PublicInbox } from './public-inbox.ts';
import { assembleSeries, type AssembleOptions } from './assemble.ts';
import { findPostings, postingOf, ThreadGraph } from './thread-graph.ts';
import { identityOf, mayStartRevisionOf, type SeriesIdentity } from './revisions.ts';

export interface MailSource {
  /** For messages: "--mbox series.mbox". */
  readonly label: string;
  /** The messages of the thread holding `messageId`; [] when this source does not have it. */
  thread(messageId: string): Promise<MailMessage[]>;
  /** Messages that may start another revision of the series (its cover or patch 1). */
  revisionStarts(id: SeriesIdentity): Promise<string[]>;
}

/** Messages already in memory: an mbox, a maildir, a lore thread. */
export class MessageListSource implements MailSource {
  private readonly graph: ThreadGraph<MailMessage>;

  constructor(readonly label: string, messages: readonly MailMessage[]) {
    this.graph = new ThreadGraph(messages);
  }

  async thread(messageId: string): Promise<MailMessage[]> {
    return this.graph.thread(messageId);
  }

  async revisionStarts(id: SeriesIdentity): Promise<string[]> {
    return [...this.graph.all()].filter((m) => mayStartRevisionOf(m, id)).map((m) => m.messageId);
  }
}

export class InboxSource implements MailSource {
  constructor(readonly label: string, readonly inbox: PublicInbox) {}

  async thread(messageId: string): Promise<MailMessage[]> {
    return this.inbox.load(this.inbox.graph.thread(messageId));
  }

  async revisionStarts(id: SeriesIdentity): Promise<string[]> {
    // A header-only scan of the index: no message is read.
    return [...this.inbox.graph.all()].filter((e) => mayStartRevisionOf(e, id)).map((e) => e.messageId);
  }
}

export interface SourceSpec {
  mbox?: readonly string[];
  maildir?: readonly string[];
  inbox?: readonly string[];
}

export interface SourceOptions {
  store?: CacheStore;
  /** Told when a public-inbox index has to be built. */
  onIndexing?: (gitDir: string) => void;
}

/** Open every source named on the command line, in the order mbox, maildir, inbox. */
export async function openSources(spec: SourceSpec, opts: SourceOptions = {}): Promise<MailSource[]> {
  const sources: MailSource[] = [];
  for (const f of spec.mbox ?? []) sources.push(new MessageListSource(`--mbox ${f}`, await readMbox(f)));
  for (const d of spec.maildir ?? []) sources.push(new MessageListSource(`--maildir ${d}`, await readMaildir(d)));
  for (const p of spec.inbox ?? []) {
    sources.push(new InboxSource(`--inbox ${p}`, await PublicInbox.open(p, { ...opts })));
  }
  return sources;
}

export interface FindThreadOptions {
  store?: CacheStore;
  /** Ask lore.kernel.org when no source has the message (default true). */
  lore?: boolean;
  /** Injectable for tests. */
  fetch?: FetchLike;
  loreBase?: string;
  /** Also gather other revisions of the series from the sources (default true). */
  revisions?: boolean;
}

function addAll(into: Map<string, MailMessage>, messages: readonly MailMessage[]): void {
  for (const m of messages) if (!into.has(m.messageId)) into.set(m.messageId, m);
}

/**
 * The messages relevant to `messageId`: its thread from every source that has
 * it (or from lore when none does), plus the threads of other revisions of the
 * same series found in the sources.
 */
export async function findThread(messageIdArg: string, sources: readonly MailSource[], opts: FindThreadOptions = {}): Promise<MailMessage[]> {
  const messageId = normalizeMessageId(messageIdArg);
  const found = new Map<string, MailMessage>();
  for (const s of sources) addAll(found, await s.thread(messageId));
  let pool = sources;
  if (found.size === 0) {
    if (opts.lore === false) throw usageError(`Message-ID <${messageId}> not found in the given sources`);
    const lore = await fetchLoreThread(messageId, {
      ...(opts.store ? { store: opts.store } : {}),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.loreBase ? { base: opts.loreBase } : {}),
    });
    addAll(found, lore);
    pool = [new MessageListSource('lore.kernel.org', lore), ...sources];
  }
  if (opts.revisions === false) return [...found.values()];

  const messages = [...found.values()];
  const start = postingOf(findPostings(messages), messageId, found);
  if (!start) return messages; // assembleSeries says why
  const id = identityOf(start);
  for (const s of pool) {
    for (const other of await s.revisionStarts(id)) {
      if (!found.has(other)) addAll(found, await s.thread(other));
    }
  }
  return [...found.values()];
}

/** findThread + assembleSeries: the wanted revision of the series `messageId` belongs to. */
export async function loadSeries(
  messageIdArg: string,
  sources: readonly MailSource[],
  opts: FindThreadOptions & AssembleOptions = {},
): Promise<Series> {
  const messageId = normalizeMessageId(messageIdArg);
  const messages = await findThread(messageId, sources, opts);
  return assembleSeries(messages, messageId, opts);
}
