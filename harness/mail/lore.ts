// lore.kernel.org as the source of last resort: the whole thread of a
// Message-ID as one gzipped mbox, the URL b4 uses. Answers are cached, so a
// series fetched once can be applied again offline.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CacheStore } from '../cache/store.ts';
import { infraError, usageError } from '../util/errors.ts';
import { sha256 } from '../util/hash.ts';
import { decodeMaybeGzip, parseMbox } from './mbox.ts';
import type { MailMessage } from './mail-types.ts';

/** The subset of fetch() lore needs, so tests can answer without a network. */
export type FetchLike = (
  url: string,
  init: { signal?: AbortSignal; headers?: Record<string, string> },
) => Promise<{ ok: boolean; status: number; arrayBuffer(): Promise<ArrayBuffer> }>;

export const LORE_BASE = 'https://lore.kernel.org/all';
const CACHE_KIND = 'lore-thread';

export function loreThreadUrl(messageId: string, base: string = LORE_BASE): string {
  // Message-IDs may hold '/', '+', '%'...; '@' stays readable as in b4's URLs.
  return `${base.replace(/\/+$/, '')}/${encodeURIComponent(messageId).replace(/%40/g, '@')}/t.mbox.gz`;
}

export interface LoreOptions {
  fetch?: FetchLike;
  store?: CacheStore;
  /** Another public-inbox instance (e.g. a loopback server in tests). */
  base?: string;
  timeoutMs?: number;
}

/** Download the thread of `messageId` from lore (the gunzipped mbox bytes). */
async function download(messageId: string, opts: LoreOptions): Promise<Buffer> {
  const url = loreThreadUrl(messageId, opts.base);
  const doFetch: FetchLike = opts.fetch ?? ((u, init) => fetch(u, init));
  let res: Awaited<ReturnType<FetchLike>>;
  try {
    res = await doFetch(url, {
      signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
      headers: { 'user-agent': 'kseries' },
    });
  } catch {
    throw usageError(`Message-ID <${messageId}> not found in the given sources and lore.kernel.org is unreachable (offline?)`);
  }
  if (res.status === 404 || res.status === 410) throw usageError(`unknown Message-ID <${messageId}> (lore.kernel.org has no such message)`);
  if (!res.ok) throw infraError(`lore.kernel.org answered HTTP ${res.status} for <${messageId}>`);
  let bytes: Buffer;
  try {
    bytes = Buffer.from(await res.arrayBuffer());
  } catch {
    throw usageError(`Message-ID <${messageId}> not found in the given sources and lore.kernel.org is unreachable (offline?)`);
  }
  return decodeMaybeGzip(bytes, url);
}

/** The messages of the thread of `messageId`, from the cache or lore.kernel.org. */
export async function fetchLoreThread(messageId: string, opts: LoreOptions = {}): Promise<MailMessage[]> {
  const url = loreThreadUrl(messageId, opts.base);
  let mbox: Buffer;
  if (opts.store) {
    const { path } = await opts.store.produce(CACHE_KIND, sha256(url), async (dir) => {
      await writeFile(join(dir, 't.mbox'), await download(messageId, opts));
    });
    mbox = await readFile(join(path, 't.mbox'));
  } else {
    mbox = await download(messageId, opts);
  }
  const messages = parseMbox(mbox, url);
  if (!messages.some((m) => m.messageId === messageId)) {
    throw usageError(`unknown Message-ID <${messageId}> (lore.kernel.org's thread does not contain it)`);
  }
  return messages;
}
