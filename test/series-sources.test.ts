import t from 'tap';
import { createServer } from 'node:http';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CacheStore } from '../harness/cache/store.ts';
import { ExitCode } from '../harness/model/results.ts';
import { fetchLoreThread, loreThreadUrl, type FetchLike } from '../harness/mail/lore.ts';
import { PublicInbox } from '../harness/mail/public-inbox.ts';
import { findThread, loadSeries, openSources } from '../harness/mail/sources.ts';
import { makeInbox } from './fixtures/series/make-inbox.ts';
import { mbox, NOISE, raws, render, V1, V2, V3 } from './fixtures/series/make-fixtures.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'series');
const tmp = (what: string) => mkdtemp(join(tmpdir(), `kseries-${what}-`));
const ALL = [...V1, ...NOISE.slice(0, 3), ...V2, ...NOISE.slice(3), ...V3];

t.test('mbox, gz mbox and maildir together: revisions across sources', async (t) => {
  const sources = await openSources({ mbox: [join(FIX, 'toy-series.mbox.gz')], maildir: [join(FIX, 'toy-v3.maildir')] });
  t.same(sources.map((s) => s.label), [`--mbox ${join(FIX, 'toy-series.mbox.gz')}`, `--maildir ${join(FIX, 'toy-v3.maildir')}`]);
  const thread = await findThread(`<${V1[0]!.id}>`, sources, { lore: false });
  t.ok(V3.every((m) => thread.some((x) => x.messageId === m.id)), 'v3 thread from the maildir joined');
  t.ok(thread.some((x) => x.messageId === 'other-2@example.com'), 'the v1 thread is all there');
  const s = await loadSeries(V1[0]!.id, sources, { lore: false });
  t.equal(s.revision, 3);
  t.equal((await loadSeries(V1[0]!.id, sources, { lore: false, revision: 2 })).cover?.messageId, V2[0]!.id);
  const only = await findThread(V1[0]!.id, sources, { lore: false, revisions: false });
  t.notOk(only.some((x) => x.messageId === V2[0]!.id), 'revisions: false keeps to the thread');
  await t.rejects(findThread('nope@x', sources, { lore: false }), {
    exitCode: ExitCode.USAGE,
    message: 'Message-ID <nope@x> not found in the given sources',
  });
});

t.test('public-inbox archive: index built once, cached by refs, epochs', async (t) => {
  const dir = await tmp('inbox');
  const repo = join(dir, 'repo');
  await makeInbox(repo, raws(ALL.slice(0, 10)));
  const store = new CacheStore(await tmp('cache'));
  const indexed: string[] = [];
  const opts = { store, onIndexing: (d: string) => indexed.push(d) };

  const inbox = await PublicInbox.open(repo, opts);
  t.equal(indexed.length, 1, 'first open builds the index');
  t.equal(inbox.size, 10);
  const e = inbox.lookup(V1[1]!.id)!;
  t.match(e, { subject: `[PATCH 1/3] toy: add a greeting variable`, inReplyTo: V1[0]!.id, references: [V1[0]!.id] });
  const [loaded] = await inbox.load([e]);
  t.equal(loaded!.raw.toString(), render(V1[1]!), 'raw is the stored message, byte for byte');

  await PublicInbox.open(repo, opts);
  t.equal(indexed.length, 1, 'second open reads the cached index');

  await makeInbox(repo, raws(ALL.slice(10)));
  const grown = await PublicInbox.open(repo, opts);
  t.equal(indexed.length, 2, 'new commits: new index');
  t.equal(grown.size, ALL.length);

  const sources = await openSources({ inbox: [repo] }, { store });
  const s = await loadSeries(V1[2]!.id, sources, { lore: false });
  t.equal(s.revision, 3, 'latest revision found through the index by cover title and sender');
  t.same(s.patches.map((p) => p.message.messageId), V3.slice(1).map((m) => m.id));
  const v1 = await loadSeries(V1[2]!.id, sources, { lore: false, revision: 1 });
  t.same(v1.patches.map((p) => p.message.messageId), V1.slice(1).map((m) => m.id));

  // A v2 public-inbox: git/0.git and git/1.git hold one part of the history each.
  const v2dir = join(dir, 'v2inbox');
  await mkdir(join(v2dir, 'git'), { recursive: true });
  await makeInbox(join(v2dir, 'git', '0.git'), raws(ALL.slice(0, 9)));
  await makeInbox(join(v2dir, 'git', '1.git'), raws(ALL.slice(9)));
  const epochs = await PublicInbox.open(v2dir, { store });
  t.equal(epochs.gitDirs.length, 2);
  const s2 = await loadSeries(V1[0]!.id, await openSources({ inbox: [v2dir] }, { store }), { lore: false, revision: 2 });
  t.same(s2.patches.map((p) => p.message.messageId), V2.slice(1).map((m) => m.id));

  await t.rejects(PublicInbox.open(join(dir, 'nope')), { exitCode: ExitCode.USAGE, message: /no such directory/ });
  await t.rejects(PublicInbox.open(FIX), { exitCode: ExitCode.USAGE, message: /is not a git repository/ });
});

const gz = (mails = V2) => gzipSync(Buffer.from(mbox(raws(mails))));
const answer = (status: number, body: Buffer = Buffer.alloc(0)): FetchLike => async () => ({
  ok: status >= 200 && status < 300,
  status,
  arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer,
});

t.test('lore: offline, unknown, server error, found and cached', async (t) => {
  const id = V2[0]!.id;
  t.equal(loreThreadUrl(id), `https://lore.kernel.org/all/${id}/t.mbox.gz`);
  t.equal(loreThreadUrl('a/b+c@d'), 'https://lore.kernel.org/all/a%2Fb%2Bc@d/t.mbox.gz');

  const offline: FetchLike = async () => {
    throw new TypeError('fetch failed');
  };
  await t.rejects(findThread(id, [], { fetch: offline }), {
    exitCode: ExitCode.USAGE,
    message: `Message-ID <${id}> not found in the given sources and lore.kernel.org is unreachable (offline?)`,
  });
  await t.rejects(fetchLoreThread(id, { fetch: answer(404) }), {
    exitCode: ExitCode.USAGE,
    message: `unknown Message-ID <${id}> (lore.kernel.org has no such message)`,
  });
  await t.rejects(fetchLoreThread(id, { fetch: answer(503) }), { exitCode: ExitCode.INFRA, message: /HTTP 503/ });

  const store = new CacheStore(await tmp('cache'));
  const urls: string[] = [];
  const found: FetchLike = async (url, init) => {
    urls.push(url);
    return answer(200, gz())(url, init);
  };
  const s = await loadSeries(id, [], { fetch: found, store });
  t.equal(s.revision, 2);
  t.equal(s.patches.length, 3);
  t.same(urls, [loreThreadUrl(id)]);
  // Cached: no network needed the second time.
  const again = await loadSeries(id, [], { fetch: offline, store });
  t.same(again.patches.map((p) => p.message.raw), s.patches.map((p) => p.message.raw));
  t.equal(urls.length, 1);
  // A failed download leaves nothing in the cache.
  await t.rejects(fetchLoreThread('other@x', { fetch: answer(404), store }));
  t.equal((await readdir(store.dir('lore-thread'))).length, 1);
});

t.test('lore through a loopback http server and the real fetch', async (t) => {
  const served: string[] = [];
  const server = createServer((req, res) => {
    served.push(req.url ?? '');
    if (req.url === `/all/${V1[0]!.id}/t.mbox.gz`) {
      res.writeHead(200, { 'content-type': 'application/gzip' });
      res.end(gz([...V1, ...NOISE.slice(0, 3)]));
    } else {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/all`;
  const s = await loadSeries(V1[0]!.id, [], { loreBase: base });
  t.equal(s.revision, 1);
  t.same(s.patches.map((p) => p.message.messageId), V1.slice(1).map((m) => m.id));
  await t.rejects(loadSeries('gone@x', [], { loreBase: base }), { exitCode: ExitCode.USAGE, message: /unknown Message-ID <gone@x>/ });
  t.same(served, [`/all/${V1[0]!.id}/t.mbox.gz`, '/all/gone@x/t.mbox.gz']);
});

t.test('fixture files are what the generator writes', async (t) => {
  // Guards against hand edits drifting from make-fixtures.ts.
  const { writeFixtures } = await import('./fixtures/series/make-fixtures.ts');
  const dir = await tmp('fixtures');
  writeFixtures(dir);
  for (const f of ['toy-series.mbox', 'missing-patch.mbox', 'duplicate-patch.mbox', 'rfc2047-crlf.mbox']) {
    t.equal(await readFile(join(dir, f), 'utf8'), await readFile(join(FIX, f), 'utf8'), f);
  }
});
