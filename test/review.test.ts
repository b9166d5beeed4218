// kseries review on a synthetic thread and a toy repo, judged by --run commands:
// two revisions that each plant one change among harmless patches, reply
// diffs that apply onto their series, onto the base only, or nowhere.
import t from 'tap';
import { execa } from 'execa';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mbox, render, type Mail } from './fixtures/series/make-fixtures.ts';
import { kernelRepo } from './fixtures/series/toy-repo.ts';
import { collectReview } from '../harness/review/collect.ts';
import { compareRevisions, differences } from '../harness/review/engine.ts';
import { formatReviewText } from '../harness/review/report.ts';
import { wrap } from '../harness/report/text.ts';
import { describeChange } from '../harness/review/describe.ts';
import { parseMessage } from '../harness/mail/mbox.ts';
import type { CellValue } from '../harness/review/review-types.ts';
import { schemaErrors } from './fixtures/json/validate.ts';

const repo = join(import.meta.dirname, '..');
const kseries = (...args: string[]) => execa('node', [join(repo, 'bin/kseries.js'), ...args], { reject: false, env: { FORCE_COLOR: '0' } });

const AUTHOR = 'Knob Author <knobs@example.org>';
const REVIEWER = 'Rev Yewer <reviewer@example.org>';

const knobRepo = () => kernelRepo({ 'a.txt': 'alpha=1\n', 'b.txt': 'beta=1\n', 'c.txt': 'gamma=1\n', 'notes.txt': 'n0\n' });

const diff = (file: string, from: string, to: string) => `diff --git a/${file} b/${file}\n--- a/${file}\n+++ b/${file}\n@@ -1 +1 @@\n-${from}\n+${to}\n`;
const SIG = '-- \n2.40.0\n';

function posting(rev: number, day: number, diffs: [string, string][]): Mail[] {
  const tag = rev === 1 ? 'PATCH' : `PATCH v${rev}`;
  const stamp = `2024010${day}`;
  const cover: Mail = { id: `${stamp}-0-knobs@example.org`, from: AUTHOR, date: `Mon, ${day} Jan 2024 10:00:00 +0000`, subject: `[${tag} 0/3] knobs: tune the knobs`, body: 'Tune some knobs.\n' };
  const patches = diffs.map(([title, d], i) => ({
    id: `${stamp}-${i + 1}-knobs@example.org`,
    from: AUTHOR,
    date: `Mon, ${day} Jan 2024 10:00:0${i + 1} +0000`,
    subject: `[${tag} ${i + 1}/3] ${title}`,
    inReplyTo: cover.id,
    references: [cover.id],
    body: `${title}.\n\nSigned-off-by: ${AUTHOR}\n---\n${d}${SIG}`,
  }));
  return [cover, ...patches];
}

const V1 = posting(1, 1, [
  ['knobs: note the first tuning', diff('notes.txt', 'n0', 'n1')],
  ['knobs: raise alpha', diff('a.txt', 'alpha=1', 'alpha=2')],
  ['knobs: note the second tuning', diff('notes.txt', 'n1', 'n2')],
]);
const V2 = posting(2, 5, [
  ['knobs: note the first tuning', diff('notes.txt', 'n0', 'n1')],
  ['knobs: note the second tuning', diff('notes.txt', 'n1', 'n2')],
  ['knobs: raise beta', diff('b.txt', 'beta=1', 'beta=2')],
]);
const reply = (id: string, to: Mail, root: Mail, day: number, body: string): Mail => ({
  id,
  from: REVIEWER,
  date: `Tue, ${day} Jan 2024 09:00:00 +0000`,
  subject: `Re: ${to.subject}`,
  inReplyTo: to.id,
  references: [root.id, to.id],
  body,
});
/** Under v1 2/3, and it applies on top of v1. */
const ON_SERIES = reply('gamma@example.org', V1[2]!, V1[0]!, 2, `> -alpha=1\n\nWhile at it, gamma too?\n\n${diff('c.txt', 'gamma=1', 'gamma=2')}`);
/** Under v2 3/3, but written against the base: it only applies there. */
const ON_BASE = reply('beta3@example.org', V2[3]!, V2[0]!, 6, `Rather this?\n\n${diff('b.txt', 'beta=1', 'beta=3')}`);
/** Under the v2 cover, against a file state nobody has. */
const NOWHERE = reply('nowhere@example.org', V2[0]!, V2[0]!, 7, `Something like:\n\n${diff('a.txt', 'alpha=9', 'alpha=10')}`);
/** A reply that only talks. */
const TALK = reply('talk@example.org', V1[2]!, V1[0]!, 3, '> -alpha=1\n\nWhy alpha?\n');

const ALL = [...V1, ...V2, ON_SERIES, ON_BASE, NOWHERE, TALK];
const RUNS = ['grep -qx alpha=1 a.txt', 'grep -qx beta=1 b.txt', 'grep -qx gamma=1 c.txt'];

async function threadMbox(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-review-'));
  const file = join(dir, 'thread.mbox');
  await writeFile(file, mbox(ALL.map((m) => render(m))));
  return file;
}

t.test('collect: both revisions, and the three reply diffs with what each is under', async (t) => {
  const messages = ALL.map((m) => parseMessage(Buffer.from(render(m)))!);
  const c = collectReview(messages, TALK.id);
  t.same(c.revisions.map((r) => [r.revision, r.patches.length]), [[1, 3], [2, 3]]);
  t.same(c.replies.map((r) => [r.messageId, r.under]), [
    ['gamma@example.org', { revision: 1, patch: 2 }],
    ['beta3@example.org', { revision: 2, patch: 3 }],
    ['nowhere@example.org', { revision: 2 }],
  ]);
  t.equal(c.title, 'knobs: tune the knobs');
});

t.test('review --run names each planted patch, places each reply diff and compares the revisions', async (t) => {
  const tree = await knobRepo();
  const cache = await mkdtemp(join(tmpdir(), 'kseries-cache-'));
  const out = join(cache, 'run');
  const r = await kseries('review', TALK.id, '--tree', tree, '--cache', cache, '--mbox', await threadMbox(), '--no-lore', '--out', out, ...RUNS.flatMap((c) => ['--run', c]));
  t.equal(r.exitCode, 0, r.stderr);
  const json = JSON.parse(await readFile(join(out, 'review.json'), 'utf8'));
  t.same(schemaErrors(json), [], 'review.json validates against its schema');
  const [v1, v2] = json.revisions;
  t.same(v1.changes.map((c: { patch: { index: number }; cells: { cell: string }[] }) => [c.patch.index, c.cells.map((x) => x.cell)]), [[2, ['run:grep -qx alpha=1 a.txt']]], 'v1: 2/3 raises alpha');
  t.equal(v1.changes[0].patch.messageId, V1[2]!.id);
  t.same(v2.changes.map((c: { patch: { index: number }; cells: { cell: string }[] }) => [c.patch.index, c.cells.map((x) => x.cell)]), [[3, ['run:grep -qx beta=1 b.txt']]], 'v2: 3/3 raises beta');
  const byId = Object.fromEntries(json.replies.map((x: { messageId: string }) => [x.messageId, x]));
  t.match(byId['gamma@example.org'], { placement: { status: 'applied', onto: 'series', revision: 1 }, changes: [{ cell: 'run:grep -qx gamma=1 c.txt', from: 'good', to: 'bad' }] });
  t.match(byId['beta3@example.org'], { placement: { status: 'applied', onto: 'base', tried: [{ onto: 'v2 (its full series)' }] }, changes: [{ cell: 'run:grep -qx beta=1 b.txt' }] });
  t.match(byId['nowhere@example.org'], { placement: { status: 'refused' }, changes: [] });
  t.equal(byId['nowhere@example.org'].placement.reason, 'it applies neither onto v2 (its full series) nor onto the base');
  t.match(byId['nowhere@example.org'].placement.tried[1], { onto: 'the base', reason: /^it does not apply: a\.txt hunk #1 failed/, hunk: '--- a.txt\n@@ -1,1 +1,1 @@\n-alpha=9\n+alpha=10' }, 'the refused hunk, as posted');
  t.same(json.comparisons.map((c: { text: string }) => c.text), [
    'v1 changes run:grep -qx alpha=1 a.txt at 2/3: good → bad; v2 no longer does',
    'v2 changes run:grep -qx beta=1 b.txt at 3/3: good → bad; v1 did not',
  ]);
  t.same(json.leftOut, []);
  const text = await readFile(join(out, 'review.txt'), 'utf8');
  t.ok(text.split('\n').every((l) => l.length <= 72), 'the plain-text report fits 72 columns');
  t.match(text, /first at patch 2\/3 "knobs: raise alpha"/);
  t.match(text, /^tree: Linux 6\.1\.0 at [0-9a-f]{12};/m, 'the tree by version and commit');
  t.notMatch(text, new RegExp(tree), 'no local path of the tree in a reply for the list');
  t.notMatch(text, new RegExp(cache), 'nor of the cache');
  t.match(r.stdout, /^plan: 5 variants \(base, v2, v1, reply <gamma@example\.org>, reply <beta3@example\.org>\)/m, 'the plan comes first');
  t.match(await readFile(join(out, 'review.md'), 'utf8'), /^## Revisions compared/m);
});

t.test('review --port applies a file in place of a reply diff that applies nowhere; --plan stops after the plan', async (t) => {
  const tree = await knobRepo();
  const cache = await mkdtemp(join(tmpdir(), 'kseries-cache-'));
  const port = join(cache, 'nowhere.diff');
  await writeFile(port, diff('a.txt', 'alpha=1', 'alpha=10'));
  const mb = await threadMbox();
  const r = await kseries('review', V2[0]!.id, '--tree', tree, '--cache', cache, '--mbox', mb, '--no-lore', '--out', join(cache, 'run'), '--port', `<nowhere@example.org>=${port}`, ...RUNS.flatMap((c) => ['--run', c]));
  t.equal(r.exitCode, 0, r.stderr);
  const json = JSON.parse(await readFile(join(cache, 'run', 'review.json'), 'utf8'));
  const nowhere = json.replies.find((x: { messageId: string }) => x.messageId === 'nowhere@example.org');
  t.match(nowhere, { port, placement: { status: 'applied', onto: 'series', revision: 2 }, changes: [{ cell: 'run:grep -qx alpha=1 a.txt' }] });

  const p = await kseries('review', V2[0]!.id, '--tree', tree, '--cache', cache, '--mbox', mb, '--no-lore', '--out', join(cache, 'plan'), '--plan', '--run', RUNS[0]!);
  t.equal(p.exitCode, 0, p.stderr);
  t.match(p.stdout, /^plan: 5 variants/m);
  t.notMatch(p.stdout, /^summary:/m, 'nothing after the plan');
});

t.test('bad input: one line, exit 2, before anything runs', async (t) => {
  const tree = await knobRepo();
  const cache = await mkdtemp(join(tmpdir(), 'kseries-cache-'));
  const mb = await threadMbox();
  const cases: [string[], RegExp][] = [
    [['--port', 'nonsense'], /--port needs '<MESSAGE-ID>=FILE'/],
    [['--port', `<talk@example.org>=${mb}`, '--run', 'true'], /--port <talk@example\.org>: no reply diff with that Message-ID/],
    [['--run', 'true', '--abi', 'compat'], /--run replaces build and boot/],
    [['--abi', 'arm64'], /unknown ABI 'arm64'/],
    [['--probe', 'no_such_probe'], /unknown probe no_such_probe/],
  ];
  for (const [extra, re] of cases) {
    const r = await kseries('review', TALK.id, '--tree', tree, '--cache', cache, '--mbox', mb, '--no-lore', ...extra);
    t.equal(r.exitCode, 2, extra.join(' '));
    t.match(r.stderr, re);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
  const lone = await kseries('review', 'missing@example.org', '--tree', tree, '--cache', cache, '--mbox', mb, '--no-lore', '--run', 'true');
  t.equal(lone.exitCode, 2);
  t.match(lone.stderr, /not found in the given sources/);
});

t.test('differences and comparisons are pure', async (t) => {
  const m = (o: Record<string, string | undefined>) => new Map(Object.entries(o).map(([k, v]) => [k, (v === undefined ? { missing: 'skipped' } : { value: v }) as CellValue]));
  const base = m({ a: 'PASS', b: 'PASS', c: 'PASS', d: 'PASS' });
  t.same(differences(['a', 'b', 'c', 'd'], base, m({ a: 'FAIL', b: 'PASS', c: undefined, d: 'PASS' })), { changes: [{ cell: 'a', from: 'PASS', to: 'FAIL' }], undecided: ['c'] });
  const none = () => undefined;
  const cmp = compareRevisions(['a', 'b', 'c'], base, [
    { revision: 1, values: m({ a: 'FAIL', b: 'PASS', c: 'FAIL x' }), firstPatch: (c) => (c === 'a' ? '1/2' : undefined) },
    { revision: 2, values: m({ a: 'PASS', b: 'FAIL', c: 'FAIL y' }), firstPatch: none },
  ]);
  t.same(cmp.map((c) => c.text), [
    'v1 changes a at 1/2: PASS → FAIL; v2 no longer does',
    'v2 changes b: PASS → FAIL; v1 did not',
    'v1 and v2 both change c, differently: PASS → FAIL x in v1, PASS → FAIL y in v2',
  ]);
  t.equal(describeChange('PASS a=PASS b=PASS c=SKIP', 'FAIL a=PASS b=FAIL d=PASS'), 'PASS → FAIL (b PASS→FAIL, c SKIP→-, d -→PASS)', 'a fingerprint shrinks to the cases that differ');
  t.equal(describeChange('PASS a=PASS', 'CRASHED (probe did not report)'), 'PASS a=PASS → CRASHED (probe did not report)');
  t.equal(describeChange('PASS a=PASS b=PASS c=PASS d=PASS', 'FAIL a=FAIL b=FAIL c=FAIL d=FAIL'), 'PASS → FAIL (all 4 cases PASS→FAIL)');
});

t.test('wrap keeps every line within the width, words whole where they fit', async (t) => {
  const long = '  - ' + 'word '.repeat(40) + 'x'.repeat(100);
  const lines = wrap(long);
  t.ok(lines.every((l) => l.length <= 72));
  t.equal(lines.join('').replace(/\s+/g, ''), long.replace(/\s+/g, ''), 'nothing lost');
  t.ok(lines.slice(0, -2).every((l) => / word$/.test(l)), 'words are not split while they fit');
  t.same(wrap('short'), ['short']);
  t.type(formatReviewText, 'function');
});
