// The thread graph and revision selection on header-only messages.
import t from 'tap';
import { findPostings, parentIds, postingOf, type ThreadHeaders } from '../harness/mail/thread-graph.ts';
import { chooseRevision, identityOf, mayStartRevisionOf, sameSeries, titleOf } from '../harness/mail/revisions.ts';

const A = 'Ann Author <ann@example.org>';
const B = 'Bob <bob@example.org>';
let n = 0;
const m = (subject: string, opts: { from?: string; re?: string; refs?: string[]; id?: string; date?: string } = {}): ThreadHeaders => ({
  messageId: opts.id ?? `m${++n}@x`,
  subject,
  from: opts.from ?? A,
  date: opts.date ?? `Mon, 1 Jan 2024 10:${String(n).padStart(2, '0')}:00 +0000`,
  references: opts.refs ?? (opts.re ? [opts.re] : []),
  ...(opts.re ? { inReplyTo: opts.re } : {}),
});

t.test('parentIds: In-Reply-To, then References newest first, no duplicates, never itself', async (t) => {
  t.same(parentIds({ messageId: 'c', inReplyTo: 'b', references: ['a', 'b', 'c'] }), ['b', 'a']);
  t.same(parentIds({ messageId: 'c', references: [] }), []);
});

t.test('findPostings groups patches under their cover; replies and other senders stay out', async (t) => {
  const cover = m('[PATCH v2 0/2] fix things', { id: 'cover' });
  const p1 = m('[PATCH v2 1/2] a: one', { re: 'cover' });
  const p2 = m('[PATCH v2 2/2] a: two', { re: 'cover' });
  const reply = m('Re: [PATCH v2 1/2] a: one', { re: p1.messageId, from: B });
  const foreign = m('[PATCH 2/2 next] a: other', { re: 'cover', from: B });
  const ps = findPostings([cover, p1, p2, reply, foreign]);
  const mine = ps.find((p) => p.rootId === 'cover' && p.sender === 'ann@example.org')!;
  t.equal(mine.revision, 2);
  t.equal(mine.total, 2);
  t.equal(mine.coverTitle, 'fix things');
  t.same([...mine.patches.entries()].map(([i, l]) => [i, l.map((x) => x.messageId)]), [[1, [p1.messageId]], [2, [p2.messageId]]]);
  t.notOk(ps.some((p) => [...p.patches.values()].flat().includes(reply)), 'a reply is never a patch');
  const byId = new Map([cover, p1, p2, reply, foreign].map((x) => [x.messageId, x] as const));
  t.equal(postingOf(ps, reply.messageId, byId), mine, 'a reply finds its posting through what it replies to');
  t.equal(postingOf(ps, 'cover', byId), mine);
  t.equal(postingOf(ps, 'nowhere', byId), undefined);
});

t.test('a lone [PATCH] is a series of one; its revision from the tag', async (t) => {
  const one = m('[PATCH v3] x: a fix');
  const [p] = findPostings([one]);
  t.match(p, { rootId: one.messageId, revision: 3, total: 1 });
  t.equal(titleOf(p!), 'x: a fix', 'without a cover, the title of patch 1');
});

t.test('revision identity: same sender and cover title, else same patch-1 title', async (t) => {
  const v1 = findPostings([m('[PATCH 0/1] Fix Things', { id: 'c1' }), m('[PATCH 1/1] a: one', { re: 'c1' })])[0]!;
  const v2 = findPostings([m('[PATCH v2 0/1] fix  things', { id: 'c2' }), m('[PATCH v2 1/1] a: renamed', { re: 'c2' })])[0]!;
  const other = findPostings([m('[PATCH v2 0/1] fix things', { id: 'c3', from: B }), m('[PATCH v2 1/1] a: one', { re: 'c3', from: B })])[0]!;
  t.ok(sameSeries(identityOf(v1), identityOf(v2)), 'cover titles compare case- and space-insensitively');
  t.notOk(sameSeries(identityOf(v1), identityOf(other)), 'another sender is another series');
  const id = identityOf(v1);
  t.ok(mayStartRevisionOf(m('[PATCH v5 0/3] fix things'), id));
  t.ok(mayStartRevisionOf(m('[PATCH v5 1/3] a: one'), id));
  t.notOk(mayStartRevisionOf(m('[PATCH v5 2/3] a: one'), id), 'only a cover or patch 1 starts a posting');
  t.notOk(mayStartRevisionOf(m('Re: [PATCH v5 0/3] fix things'), id));
  t.notOk(mayStartRevisionOf(m('[PATCH v5 0/3] fix things', { from: B }), id));
});

t.test('chooseRevision: latest by default, any asked for, errors name what was found', async (t) => {
  const all = [
    m('[PATCH 0/1] widgets', { id: 'w1', date: 'Mon, 1 Jan 2024 10:00:00 +0000' }),
    m('[PATCH 1/1] w: add', { re: 'w1', date: 'Mon, 1 Jan 2024 10:01:00 +0000' }),
    m('[PATCH v2 0/1] widgets', { id: 'w2', date: 'Tue, 2 Jan 2024 10:00:00 +0000' }),
    m('[PATCH v2 1/1] w: add', { re: 'w2', date: 'Tue, 2 Jan 2024 10:01:00 +0000' }),
    // Same title, same author, but older than v1 while claiming v3: another series.
    m('[PATCH v3 0/1] widgets', { id: 'w3', date: 'Sun, 1 Jan 2023 10:00:00 +0000' }),
    m('[PATCH v3 1/1] w: add', { re: 'w3', date: 'Sun, 1 Jan 2023 10:01:00 +0000' }),
  ];
  const latest = chooseRevision(all, 'w1');
  t.equal(latest.chosen.rootId, 'w2');
  t.same(latest.revisions.map((r) => r.revision), [1, 2], 'a v3 dated before v1 is not a sibling');
  t.equal(chooseRevision(all, 'w2', 1).chosen.rootId, 'w1');
  t.throws(() => chooseRevision(all, 'w1', 4), { exitCode: 2, message: 'no v4 of "widgets" in the given sources (found v1, v2)' });
  t.throws(() => chooseRevision(all, 'absent@x'), { exitCode: 2, message: 'Message-ID <absent@x> is not in the given sources' });
  const chat = m('widgets are nice', { id: 'chat' });
  t.throws(() => chooseRevision([...all, chat], 'chat'), { exitCode: 2, message: /^<chat> is not part of a patch series/ });
});
