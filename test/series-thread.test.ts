import t from 'tap';
import { join } from 'node:path';
import { ExitCode } from '../harness/model/results.ts';
import { readMaildir } from '../harness/mail/maildir.ts';
import { parseMessage, readMbox } from '../harness/mail/mbox.ts';
import type { MailMessage } from '../harness/mail/mail-types.ts';
import { assembleSeries, formatRanges, parsePatchSelection } from '../harness/mail/assemble.ts';
import { chooseRevision } from '../harness/mail/revisions.ts';
import { parseSubject, senderAddress } from '../harness/mail/subject.ts';
import { ThreadGraph } from '../harness/mail/thread-graph.ts';
import { AUTHOR, BASE, OTHER, render, TITLE, V1, V2, V3, type Mail } from './fixtures/series/make-fixtures.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'series');
const toy = () => readMbox(join(FIX, 'toy-series.mbox'));
const ids = (s: { patches: { message: MailMessage }[] }) => s.patches.map((p) => p.message.messageId);
const msg = (m: Mail) => parseMessage(render(m))!;

t.test('parseSubject', async (t) => {
  const cases: [string, object][] = [
    ['[PATCH v2 3/11] a: b', { reply: false, patchTag: true, revision: 2, index: 3, total: 11, title: 'a: b' }],
    ['[PATCH 03/11] a', { revision: undefined, index: 3, total: 11, title: 'a' }],
    ['[RFC PATCH v3 0/4] cover', { revision: 3, index: 0, total: 4, title: 'cover' }],
    ['[PATCH 4/9 next] x: y', { index: 4, total: 9, title: 'x: y' }],
    ['[PATCHv5 2/2] x', { revision: 5, index: 2, total: 2 }],
    ['[PATCH -v2 2/2] x', { revision: 2, index: 2, total: 2 }],
    ['[PATCH net-next V2 1/3] x', { revision: 2, index: 1, total: 3 }],
    ['[PATCH 5.11 0/3] x', { revision: undefined, index: 0, total: 3 }],
    ['Re: [PATCH 1/9] x', { reply: true, index: 1, title: 'x' }],
    ['RE: [PATCH 1/9] x', { reply: true }],
    ['Re: Re: AW: x', { reply: true, title: 'x' }],
    ['[EXT] Re: [PATCH v2 1/2] x', { reply: true, revision: 2 }],
    ['do a thing for foo v4', { patchTag: false, revision: 4, title: 'do a thing for foo' }],
    ['do a thing for foo', { revision: undefined, index: undefined, title: 'do a thing for foo' }],
    ['[PATCH 2/3] support ipv4', { revision: undefined, title: 'support ipv4' }],
    ['[PATCH] x', { patchTag: true, index: undefined }],
    ['[GIT PULL] x', { patchTag: false }],
  ];
  for (const [s, want] of cases) t.match(parseSubject(s), want, s);
  t.equal(parseSubject('[PATCH 2/3] a v2').revision, undefined, 'a trailing vN on a patch is part of its title');
  t.equal(senderAddress('"A. U. Thor" <Author@Example.org>'), 'author@example.org');
  t.equal(senderAddress('author@example.org (A. U. Thor)'), 'author@example.org');
});

t.test('selection syntax', async (t) => {
  t.same(parsePatchSelection('1-3,5', 9), [1, 2, 3, 5]);
  t.same(parsePatchSelection('5, 1', 9), [1, 5]);
  t.throws(() => parsePatchSelection('1-x', 9), { name: 'KseriesError', exitCode: ExitCode.USAGE });
  t.throws(() => parsePatchSelection('8-10', 9), { message: /patches 1-9/ });
  t.throws(() => parsePatchSelection('3-1', 9));
  t.equal(formatRanges([1, 2, 3, 5, 7, 8]), '1-3,5,7-8');
});

t.test('latest revision by default, from any message of the thread', async (t) => {
  const msgs = await toy();
  for (const start of [V1[0]!.id, V1[2]!.id, 'reply-1@example.org', 'reply-2@example.com', V2[0]!.id, 'reply-4@example.org']) {
    const s = assembleSeries(msgs, start);
    t.equal(s.revision, 2, start);
    t.same(ids(s), V2.slice(1).map((m) => m.id));
  }
  const s = assembleSeries(msgs, V1[0]!.id);
  t.equal(s.cover?.messageId, V2[0]!.id);
  t.equal(s.title, TITLE);
  t.equal(s.total, 3);
  t.equal(s.baseCommit, BASE);
  t.equal(s.author, AUTHOR);
  t.equal(s.date, V2[0]!.date);
  t.same(s.patches.map((p) => `${p.index}/${p.total} ${p.title}`), [
    '1/3 toy: add a greeting variable',
    '2/3 toy: read the greeting from the environment',
    '3/3 toy: document GREETING and drop old.sh',
  ]);
  t.same(s.patches.map((p) => [p.diffstat.files.length, p.diffstat.insertions, p.diffstat.deletions]), [[1, 3, 1], [1, 4, 1], [3, 3, 3]]);
});

t.test('revision 1: the other author\'s [PATCH 2/3 next] and the replies are not patches', async (t) => {
  const msgs = await toy();
  const s = assembleSeries(msgs, V1[0]!.id, { revision: 1 });
  t.equal(s.revision, 1);
  t.same(ids(s), V1.slice(1).map((m) => m.id));
  t.equal(s.cover?.messageId, V1[0]!.id);
  t.equal(s.baseCommit, undefined);
  t.same(chooseRevision(msgs, V1[2]!.id).revisions.map((r) => [r.revision, r.rootId]), [
    [1, V1[0]!.id],
    [2, V2[0]!.id],
  ]);
  // Started from the other author's patch: that is a different, incomplete series.
  t.throws(() => assembleSeries(msgs, 'other-2@example.com'), {
    exitCode: ExitCode.USAGE,
    message: /is missing patches 1\/3, 3\/3 \(found 2\)/,
  });
});

t.test('a v3 with untagged patches and a trailing "v3" on the cover', async (t) => {
  const msgs = [...(await toy()), ...(await readMaildir(join(FIX, 'toy-v3.maildir')))];
  const s = assembleSeries(msgs, V1[1]!.id);
  t.equal(s.revision, 3);
  t.equal(s.title, TITLE);
  t.same(ids(s), V3.slice(1).map((m) => m.id));
  t.same(chooseRevision(msgs, V1[1]!.id).revisions.map((r) => r.revision), [1, 2, 3]);
  t.same(ids(assembleSeries(msgs, V3[0]!.id, { revision: 1 })), V1.slice(1).map((m) => m.id));
});

t.test('select and drop', async (t) => {
  const msgs = await toy();
  t.same(assembleSeries(msgs, V2[0]!.id, { select: '1-2' }).patches.map((p) => p.index), [1, 2]);
  t.same(assembleSeries(msgs, V2[0]!.id, { drop: [1] }).patches.map((p) => p.index), [2, 3]);
  t.same(assembleSeries(msgs, V2[0]!.id, { select: '2-3', drop: [3] }).patches.map((p) => p.index), [2]);
  t.throws(() => assembleSeries(msgs, V2[0]!.id, { select: '4' }), { name: 'KseriesError', exitCode: ExitCode.USAGE });
  t.throws(() => assembleSeries(msgs, V2[0]!.id, { drop: [4] }), { message: /cannot drop patch 4/ });
  t.throws(() => assembleSeries(msgs, V2[0]!.id, { drop: [1, 2, 3] }), { message: /no patches .* left/ });
});

t.test('missing, duplicate, unknown revision, unknown message', async (t) => {
  const missing = await readMbox(join(FIX, 'missing-patch.mbox'));
  t.throws(() => assembleSeries(missing, missing[0]!.messageId), {
    exitCode: ExitCode.USAGE,
    message: 'v1 of "toy: a series with a hole" is missing patch 2/3 (found 1,3)',
  });
  // Selecting around the hole is fine.
  t.same(assembleSeries(missing, missing[0]!.messageId, { select: '1,3' }).patches.map((p) => p.index), [1, 3]);

  const dup = await readMbox(join(FIX, 'duplicate-patch.mbox'));
  t.throws(() => assembleSeries(dup, dup[0]!.messageId), {
    exitCode: ExitCode.USAGE,
    message: /has 2 different messages for patch 2\/3: <20240301090000\.1000-3-author@example\.org>, <20240301090000\.1000-9-author@example\.org>/,
  });

  const msgs = await toy();
  t.throws(() => assembleSeries(msgs, V1[0]!.id, { revision: 7 }), {
    exitCode: ExitCode.USAGE,
    message: `no v7 of "${TITLE}" in the given sources (found v1, v2)`,
  });
  t.throws(() => assembleSeries(msgs, 'nope@example.org'), { message: /<nope@example\.org> is not in the given sources/ });
  const chat = msg({ id: 'chat@x', from: OTHER, date: 'Mon, 1 Jan 2024 00:00:00 +0000', subject: 'a question', body: 'hi\n' });
  t.throws(() => assembleSeries([chat], 'chat@x'), { message: /is not part of a patch series/ });
});

t.test('series without a cover: patches chained to patch 1', async (t) => {
  const d = 'Mon, 1 Jan 2024 00:00:00 +0000';
  const diff = '---\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n';
  const m1 = msg({ id: 'c1@x', from: AUTHOR, date: d, subject: '[PATCH 1/3] one', body: diff });
  const m2 = msg({ id: 'c2@x', from: AUTHOR, date: d, subject: '[PATCH 2/3] two', inReplyTo: 'c1@x', references: ['c1@x'], body: diff });
  const m3 = msg({ id: 'c3@x', from: AUTHOR, date: d, subject: '[PATCH 3/3] three', inReplyTo: 'c2@x', references: ['c1@x', 'c2@x'], body: diff });
  const s = assembleSeries([m3, m1, m2], 'c2@x');
  t.same(ids(s), ['c1@x', 'c2@x', 'c3@x']);
  t.equal(s.cover, undefined);
  t.equal(s.title, 'one');
  t.same(s.patches[0]!.diffstat.files, [{ path: 'f', insertions: 1, deletions: 1 }]);
});

t.test('the cover is missing from the sources (sent to another list)', async (t) => {
  const msgs = (await toy()).filter((m) => m.messageId !== V2[0]!.id);
  const s = assembleSeries(msgs, V2[2]!.id);
  t.equal(s.revision, 2);
  t.equal(s.cover, undefined);
  t.same(ids(s), V2.slice(1).map((m) => m.id));
  // Asked for by the missing cover's own Message-ID.
  t.same(ids(assembleSeries(msgs, V2[0]!.id)), V2.slice(1).map((m) => m.id));
});

t.test('single patches and their revisions', async (t) => {
  const diff = '---\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n';
  const a = msg({ id: 's1@x', from: AUTHOR, date: 'Mon, 1 Jan 2024 00:00:00 +0000', subject: '[PATCH] toy: fix f', body: diff });
  const b = msg({ id: 's2@x', from: AUTHOR, date: 'Mon, 8 Jan 2024 00:00:00 +0000', subject: '[PATCH v2] toy: fix f', body: diff });
  const r = msg({ id: 's3@x', from: OTHER, date: 'Mon, 8 Jan 2024 00:00:00 +0000', subject: 'Re: [PATCH v2] toy: fix f', inReplyTo: 's2@x', body: '' });
  const s = assembleSeries([a, b, r], 's1@x');
  t.same([s.revision, s.total, ids(s)], [2, 1, ['s2@x']]);
  t.same(ids(assembleSeries([a, b, r], 's3@x', { revision: 1 })), ['s1@x']);
});

t.test('a v2 posted in reply to the v1 cover, without its own cover', async (t) => {
  const v1 = await toy().then((all) => all.filter((m) => V1.some((x) => x.id === m.messageId)));
  const v2 = V2.slice(1).map((m) =>
    msg({ ...m, id: m.id.replace('author', 'again'), inReplyTo: V1[0]!.id, references: [V1[0]!.id] }),
  );
  const s = assembleSeries([...v1, ...v2], V1[0]!.id);
  t.equal(s.revision, 2);
  t.same(ids(s), v2.map((m) => m.messageId));
  t.equal(assembleSeries([...v1, ...v2], V1[0]!.id, { revision: 1 }).patches[0]!.message.messageId, V1[1]!.id);
});

t.test('same title, same author: only revisions whose dates fit their numbers, RESENDs', async (t) => {
  const diff = '---\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n';
  const post = (stamp: string, day: number, prefix: string, n: number, title = 'fixes') => {
    const date = `Mon, ${day} Jan 2024 00:00:00 +0000`;
    const cover = msg({ id: `${stamp}-0@x`, from: AUTHOR, date, subject: `[${prefix} 0/${n}] ${title}`, body: 'cover\n' });
    const patches = Array.from({ length: n }, (_, i) =>
      msg({ id: `${stamp}-${i + 1}@x`, from: AUTHOR, date, subject: `[${prefix} ${i + 1}/${n}] p${i + 1}`, inReplyTo: cover.messageId, references: [cover.messageId], body: diff }),
    );
    return [cover, ...patches];
  };
  const v2 = post('a', 2, 'PATCH v2', 2);
  const unrelatedV1 = post('b', 20, 'PATCH', 3); // a later, different series called "fixes" too
  const resend = post('c', 3, 'PATCH v2 RESEND', 2);
  const all = [...v2, ...unrelatedV1, ...resend];
  t.same(chooseRevision(all, 'a-0@x').revisions.map((r) => [r.revision, r.rootId]), [[2, 'a-0@x'], [2, 'c-0@x']]);
  t.throws(() => assembleSeries(all, 'a-0@x', { revision: 1 }), { message: 'no v1 of "fixes" in the given sources (found v2)' });
  t.equal(assembleSeries(all, 'a-0@x').cover?.messageId, 'a-0@x', 'the posting asked for wins among equal revisions');
  t.equal(assembleSeries(all, 'b-0@x', { revision: 1 }).total, 3);
  t.equal(assembleSeries([...unrelatedV1, ...resend, ...v2], 'b-0@x').revision, 1, 'an earlier v2 is not its successor');
});

t.test('ThreadGraph keeps threads together through ids it has not seen', async (t) => {
  const e = (id: string, refs: string[] = []) => ({ messageId: id, references: refs, ...(refs.length ? { inReplyTo: refs[refs.length - 1]! } : {}) });
  const g = new ThreadGraph([e('a', ['gone']), e('b', ['gone']), e('c'), e('d', ['c'])]);
  t.same(g.thread('a').map((x) => x.messageId), ['a', 'b']);
  t.same(g.thread('d').map((x) => x.messageId), ['c', 'd']);
  t.same(g.thread('gone').map((x) => x.messageId), ['a', 'b'], 'a referenced id finds its replies');
  t.same(g.thread('unknown'), []);
});
