// A public-inbox git archive: every commit stores one message in the file `m`
// (v2 inboxes split the history into epochs git/0.git, git/1.git, ...).
//
// Finding a Message-ID means reading every message, so the headers of all
// messages are indexed once (one rev-list, one cat-file --batch streaming all
// `m` blobs and keeping only their header blocks) and the index is cached in
// the CacheStore under the archive's refs. Later runs read the index and load
// only the blobs of the wanted threads.
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CacheStore } from '../cache/store.ts';
import { usageError } from '../util/errors.ts';
import { sha256 } from '../util/hash.ts';
import { catFileBatch, git, runGit } from '../util/git.ts';
import { messageHeaders, parseHeaders } from './mbox.ts';
import type { MailMessage } from './mail-types.ts';
import { ThreadGraph, type ThreadHeaders } from './thread-graph.ts';

/** Headers of one archived message and where its text is. */
export interface InboxEntry extends ThreadHeaders {
  /** Which git dir of the inbox (epoch) holds the blob. */
  repo: number;
  blob: string;
}

const INDEX_KIND = 'public-inbox-index';
const INDEX_FORMAT = 'v1';
/** Header blocks beyond this are cut: the threading headers are long before it. */
const MAX_HEADER_BYTES = 256 * 1024;

function inboxGit(gitDir: string, args: string[]): Promise<string> {
  return git({ gitDir }, args, { config: 'plain', maxBuffer: 1024 * 1024 * 1024, what: `git ${args[0]} failed in ${gitDir}` });
}

/** The git dirs of an inbox path: a git dir itself, a work tree, or a v2 inbox with git/N.git epochs. */
export async function inboxGitDirs(path: string): Promise<string[]> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw usageError(`--inbox ${path}: no such directory`);
  const epochs = join(abs, 'git');
  if (existsSync(epochs)) {
    const names = (await readdir(epochs)).filter((n) => /^\d+\.git$/.test(n));
    if (names.length > 0) return names.sort((a, b) => parseInt(a) - parseInt(b)).map((n) => join(epochs, n));
  }
  const candidate = existsSync(join(abs, '.git')) ? join(abs, '.git') : abs;
  // --git-dir (not -C) so that a non-repository is not mistaken for an enclosing one.
  const r = await runGit({ gitDir: candidate }, ['rev-parse', '--absolute-git-dir'], { config: 'plain' });
  if (r.exitCode !== 0) throw usageError(`--inbox ${path} is not a git repository`);
  return [r.stdout.trim()];
}

/** Cache key: the git dir and everything its refs point at. */
async function indexKey(gitDir: string): Promise<string> {
  const refs = await inboxGit(gitDir, ['for-each-ref', '--format=%(objectname) %(refname)']);
  return sha256(INDEX_KIND, INDEX_FORMAT, gitDir, refs);
}

type Row = [messageId: string, blob: string, subject: string, inReplyTo: string, references: string, from: string, date: string];

function toRow(e: Omit<InboxEntry, 'repo'>): Row {
  return [e.messageId, e.blob, e.subject, e.inReplyTo ?? '', e.references.join(' '), e.from, e.date];
}

function fromRow(r: Row, repo: number): InboxEntry {
  return {
    messageId: r[0],
    blob: r[1],
    subject: r[2],
    ...(r[3] !== '' ? { inReplyTo: r[3] } : {}),
    references: r[4] === '' ? [] : r[4].split(' '),
    from: r[5],
    date: r[6],
    repo,
  };
}

/** Blob ids of every `m` file in the history (missing objects of a partial clone skipped). */
async function messageBlobs(gitDir: string): Promise<string[]> {
  const out = await inboxGit(gitDir, ['rev-list', '--objects', '--all', '--missing=print']);
  const blobs: string[] = [];
  for (const line of out.split('\n')) {
    if (line.endsWith(' m') && line.length > 2) blobs.push(line.slice(0, line.indexOf(' ')));
  }
  return blobs;
}

/** End of the header block (index of the blank line), or -1. */
function headerEnd(buf: Buffer): number {
  const lf = buf.indexOf('\n\n');
  const crlf = buf.indexOf('\r\n\r\n');
  if (lf < 0) return crlf;
  return crlf < 0 ? lf : Math.min(lf, crlf);
}

/**
 * Stream the given blobs through one `git cat-file --batch` and call `onHeaders`
 * with each blob's header block. Bodies are skipped as they stream by, so the
 * whole archive never sits in memory.
 */
async function streamHeaders(gitDir: string, blobs: readonly string[], onHeaders: (blob: string, head: string) => void): Promise<void> {
  await catFileBatch(gitDir, blobs, (oid) => {
    let head: Buffer = Buffer.alloc(0);
    let headDone = false;
    return {
      write(chunk) {
        if (headDone) return;
        head = Buffer.concat([head, chunk]);
        if (headerEnd(head) >= 0 || head.length > MAX_HEADER_BYTES) headDone = true;
      },
      end() {
        const end = headerEnd(head);
        onHeaders(oid, head.toString('utf8', 0, end < 0 ? head.length : end));
      },
    };
  });
}

/** Read the headers of every message of one git dir. */
export async function buildInboxIndex(gitDir: string): Promise<Omit<InboxEntry, 'repo'>[]> {
  const blobs = await messageBlobs(gitDir);
  const entries: Omit<InboxEntry, 'repo'>[] = [];
  await streamHeaders(gitDir, blobs, (blob, head) => {
    const h = messageHeaders(parseHeaders(head));
    if (h.messageId === undefined) return;
    const { messageId, ...rest } = h;
    entries.push({ messageId, blob, ...rest });
  });
  // rev-list lists newest first; keep the oldest copy of a re-sent Message-ID.
  return entries.reverse();
}

export interface InboxOpenOptions {
  /** Where the index is cached; without it the index is rebuilt on every open. */
  store?: CacheStore;
  /** Told when an index has to be built (it takes a while on a large archive). */
  onIndexing?: (gitDir: string) => void;
}

async function loadIndex(gitDir: string, repo: number, opts: InboxOpenOptions): Promise<InboxEntry[]> {
  if (!opts.store) {
    opts.onIndexing?.(gitDir);
    return (await buildInboxIndex(gitDir)).map((e) => ({ ...e, repo }));
  }
  const key = await indexKey(gitDir);
  const { path } = await opts.store.produce(INDEX_KIND, key, async (dir) => {
    opts.onIndexing?.(gitDir);
    const rows = (await buildInboxIndex(gitDir)).map(toRow);
    await writeFile(join(dir, 'index.json'), JSON.stringify({ format: INDEX_FORMAT, gitDir, rows }));
  });
  const data = JSON.parse(await readFile(join(path, 'index.json'), 'utf8')) as { rows: Row[] };
  return data.rows.map((r) => fromRow(r, repo));
}

/** Read whole blobs with one cat-file --batch. */
async function readBlobs(gitDir: string, blobs: readonly string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  await catFileBatch(gitDir, blobs, (oid) => {
    const chunks: Buffer[] = [];
    return { write: (c) => chunks.push(c), end: () => out.set(oid, Buffer.concat(chunks)) };
  });
  return out;
}

/** An opened public-inbox archive (all epochs), with its header index in memory. */
export class PublicInbox {
  readonly graph: ThreadGraph<InboxEntry>;

  private constructor(readonly path: string, readonly gitDirs: readonly string[], entries: InboxEntry[]) {
    this.graph = new ThreadGraph(entries);
  }

  static async open(path: string, opts: InboxOpenOptions = {}): Promise<PublicInbox> {
    const gitDirs = await inboxGitDirs(path);
    const entries: InboxEntry[] = [];
    for (const [i, d] of gitDirs.entries()) entries.push(...(await loadIndex(d, i, opts)));
    return new PublicInbox(path, gitDirs, entries);
  }

  get size(): number {
    let n = 0;
    for (const _ of this.graph.all()) n++;
    return n;
  }

  lookup(messageId: string): InboxEntry | undefined {
    return this.graph.get(messageId);
  }

  /** Load the full messages of some index entries. */
  async load(entries: readonly InboxEntry[]): Promise<MailMessage[]> {
    const texts = new Map<string, Buffer>();
    for (const [i, d] of this.gitDirs.entries()) {
      const mine = entries.filter((e) => e.repo === i).map((e) => e.blob);
      for (const [k, v] of await readBlobs(d, mine)) texts.set(`${i}:${k}`, v);
    }
    const out: MailMessage[] = [];
    for (const e of entries) {
      const text = texts.get(`${e.repo}:${e.blob}`);
      if (!text) continue; // vanished from a partial clone
      const { repo: _repo, blob: _blob, ...headers } = e;
      out.push({ ...headers, raw: text });
    }
    return out;
  }
}
