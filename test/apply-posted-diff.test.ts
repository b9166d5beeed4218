// Diffs posted in replies, taken by their own Message-ID (b4 am -P _), and
// plain diffs given with --patches: on the toy tree with synthetic mail.
import t from 'tap';
import { execa } from 'execa';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mbox, NOISE, raws, render, REVIEWER, V1, V2, type Mail } from './fixtures/series/make-fixtures.ts';
import { git, toyKernelRepo } from './fixtures/series/toy-repo.ts';
import { carriesDiff, isBareDiff, isPostedDiff, postedDiffTitle } from '../harness/mail/posted-diff.ts';
import { parseMessage } from '../harness/mail/mbox.ts';
import { loadProfile } from '../harness/profile/profile.ts';
import { parsePatchMails } from '../harness/variant/patches.ts';

const repo = join(import.meta.dirname, '..');
const kseries = (...args: string[]) => execa('node', [join(repo, 'bin/kseries.js'), ...args], { reject: false, env: { FORCE_COLOR: '0' } });

const V1_PATCH1 = V1[1]!.id;
/** A reviewer's "something like this?" in reply to v1 1/3, quoting it and carrying its own diff. */
const REPLY_DIFF: Mail = {
  id: 'reply-diff@example.org',
  from: REVIEWER,
  date: 'Wed, 3 Jan 2024 09:00:00 +0000',
  subject: `Re: ${V1[1]!.subject}`,
  inReplyTo: V1_PATCH1,
  references: [V1[0]!.id, V1_PATCH1],
  body:
    '> diff --git a/README b/README\n> --- a/README\n> +++ b/README\n\nWhy not simply this?\n\n' +
    'diff --git a/README b/README\n--- a/README\n+++ b/README\n@@ -1,3 +1,3 @@\n toy\n-run ./old.sh\n+run ./new.sh\n that is all\n',
};
/** A reply that only quotes a diff. */
const QUOTE_ONLY = NOISE[0]!;

const toyTree = toyKernelRepo;

async function threadMbox(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-mbox-'));
  const file = join(dir, 'thread.mbox');
  await writeFile(file, mbox(raws([...V1, ...V2, ...NOISE, REPLY_DIFF])));
  return file;
}

const msg = (m: Mail) => parseMessage(Buffer.from(render(m)))!;

t.test('a reply carrying a diff is a posted diff; a quote of one, a series patch or a cover is not', async (t) => {
  t.ok(isPostedDiff(msg(REPLY_DIFF)));
  t.notOk(carriesDiff(msg(QUOTE_ONLY)), 'quoted "> " diff lines do not count');
  t.notOk(isPostedDiff(msg(V1[1]!)), 'a [PATCH 1/3] of the series');
  t.notOk(isPostedDiff(msg(V1[0]!)), 'the cover');
  t.equal(postedDiffTitle(msg(REPLY_DIFF)), `diff by Rev Yewer in "${REPLY_DIFF.subject}"`);
});

t.test('apply <reply with a diff> applies that diff alone and says so; -v/-P are refused for it', async (t) => {
  const tree = await toyTree();
  const mboxFile = await threadMbox();
  const cache = await mkdtemp(join(tmpdir(), 'kseries-cache-'));
  const r = await kseries('apply', '--tree', tree, '--cache', cache, '--mbox', mboxFile, REPLY_DIFF.id, '--no-lore', '--json', join(cache, 'a.json'));
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stdout, /<reply-diff@example\.org> is a reply carrying a diff: applying that diff alone/);
  t.notMatch(r.stdout, /\(3 patches\)/, 'no series summary: the series was not substituted');
  const report = JSON.parse(await readFile(join(cache, 'a.json'), 'utf8'));
  t.equal(report.patches.length, 1);
  const branch = report.branch as string;
  t.equal(await git(tree, 'show', `${branch}:README`), 'toy\nrun ./new.sh\nthat is all');
  t.equal(await git(tree, 'rev-list', '--count', `${report.base}..${branch}`), '1');

  const v = await kseries('apply', '--tree', tree, '--cache', cache, '--mbox', mboxFile, REPLY_DIFF.id, '-v', '2', '--no-lore');
  t.equal(v.exitCode, 2);
  t.match(v.stderr, /^kseries: error: <reply-diff@example\.org> is a reply carrying its own diff: -v, -P and --drop choose patches of a series/m);
});

t.test('apply <reply without a diff> applies the series, and says which revision it took', async (t) => {
  const tree = await toyTree();
  const r = await kseries('apply', '--tree', tree, '--cache', await mkdtemp(join(tmpdir(), 'kseries-cache-')), '--mbox', await threadMbox(), QUOTE_ONLY.id, '--no-lore');
  t.match(r.stdout, /<reply-1@example\.org> is a reply without a diff: applying v2 of the series it belongs to \(-v N for another revision\)/);
  t.match(r.stdout, /^v2: toy: make the greeting configurable \(3 patches\)/m);
});

t.test('--patches takes a plain diff with no mail header, named after its file', async (t) => {
  const diff = 'diff --git a/README b/README\n--- a/README\n+++ b/README\n@@ -1,3 +1,3 @@\n toy\n-run ./old.sh\n+run ./plain.sh\n that is all\n';
  t.ok(isBareDiff(diff));
  t.notOk(isBareDiff(render(V1[1]!)), 'a mail is not a bare diff');
  const [m] = parsePatchMails(Buffer.from(diff), '/x/fix-readme.diff');
  t.equal(m!.subject, 'fix-readme.diff');
  const tree = await toyTree();
  const dir = await mkdtemp(join(tmpdir(), 'kseries-patches-'));
  await writeFile(join(dir, 'fix-readme.diff'), diff);
  const cache = await mkdtemp(join(tmpdir(), 'kseries-cache-'));
  const r = await kseries('apply', '--tree', tree, '--cache', cache, '--patches', dir, '--json', join(cache, 'a.json'));
  t.equal(r.exitCode, 0, r.stderr);
  const report = JSON.parse(await readFile(join(cache, 'a.json'), 'utf8'));
  t.equal(await git(tree, 'show', `${report.branch}:README`), 'toy\nrun ./plain.sh\nthat is all');
  t.throws(() => parsePatchMails(Buffer.from('just some text\n'), 'notes.txt'), /neither a patch mail .* nor a diff/);
});

t.test('a profile variant can name a posted diff by Message-ID; a message without a diff is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-profile-'));
  const write = (variants: unknown) =>
    writeFile(join(dir, 'profile.json'), JSON.stringify({ description: 'toy', base: { kernel: '6.1' }, probes: ['readv'], variants }));
  await write({ reply: { patches: [{ message: REPLY_DIFF.id }] } });
  const p = await loadProfile(dir);
  t.same(p.variants[0]!.patches, [{ message: REPLY_DIFF.id }]);
  await write({ bad: { patches: [{ message: '' }] } });
  await t.rejects(loadProfile(dir), /"message" must be a Message-ID/);

  const tree = await toyTree();
  const mboxFile = await threadMbox();
  await write({ reply: { patches: [{ message: REPLY_DIFF.id }] }, quote: { patches: [{ message: QUOTE_ONLY.id }] } });
  const cache = await mkdtemp(join(tmpdir(), 'kseries-cache-'));
  const ok = await kseries('apply', '--tree', tree, '--cache', cache, '--profile', dir, '--variant', 'reply', '--mbox', mboxFile, '--no-lore');
  t.equal(ok.exitCode, 0, ok.stderr);
  t.match(ok.stdout, /1\/1 diff by Rev Yewer in "Re: \[PATCH 1\/3\]/);
  const bad = await kseries('apply', '--tree', tree, '--cache', cache, '--profile', dir, '--variant', 'quote', '--mbox', mboxFile, '--no-lore');
  t.equal(bad.exitCode, 2);
  t.match(bad.stderr, /reply-1@example\.org> carries no diff/);
});

t.test('-P and --drop choose from --patches as from a series; -v without --series is refused', async (t) => {
  const tree = await toyTree();
  const dir = await mkdtemp(join(tmpdir(), 'kseries-patches-'));
  const edit = (from: string, to: string) => `diff --git a/README b/README\n--- a/README\n+++ b/README\n@@ -1,3 +1,3 @@\n toy\n-${from}\n+${to}\n that is all\n`;
  await writeFile(join(dir, '0001-a.diff'), edit('run ./old.sh', 'run ./a.sh'));
  await writeFile(join(dir, '0002-b.diff'), edit('run ./old.sh', 'run ./b.sh'));
  const cache = await mkdtemp(join(tmpdir(), 'kseries-cache-'));
  const r = await kseries('apply', '--tree', tree, '--cache', cache, '--patches', dir, '-P', '2', '--json', join(cache, 'a.json'));
  t.equal(r.exitCode, 0, r.stderr);
  const report = JSON.parse(await readFile(join(cache, 'a.json'), 'utf8'));
  t.equal(report.patches.length, 1);
  t.equal(await git(tree, 'show', `${report.branch}:README`), 'toy\nrun ./b.sh\nthat is all');
  const drop = await kseries('apply', '--tree', tree, '--cache', cache, '--patches', dir, '--drop', '3');
  t.equal(drop.exitCode, 2);
  t.match(drop.stderr, /cannot drop patch 3: patches in .* has patches 1-2/);
  const v = await kseries('apply', '--tree', tree, '--cache', cache, '--patches', dir, '-v', '2');
  t.equal(v.exitCode, 2);
  t.match(v.stderr, /^kseries: error: -v\/--revision chooses a revision of a --series$/m);
});
