// Which commit a posted series goes onto: its base-commit: when the tree has
// it, else the tree as it is, and always a line saying which and why.
import t from 'tap';
import { execa } from 'execa';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUTHOR, mbox, raws, type Mail } from './fixtures/series/make-fixtures.ts';
import { git, toyKernelRepo } from './fixtures/series/toy-repo.ts';

const repo = join(import.meta.dirname, '..');
const kseries = (...args: string[]) => execa('node', [join(repo, 'bin/kseries.js'), ...args], { reject: false, env: { FORCE_COLOR: '0' } });

/** The toy tree with two commits: the second changes README only. */
async function twoCommitTree(): Promise<{ dir: string; first: string; second: string }> {
  const dir = await toyKernelRepo();
  const first = await git(dir, 'rev-parse', 'HEAD');
  await writeFile(join(dir, 'README'), 'toy\nrun ./old.sh\nthat is all, really\n');
  await git(dir, 'commit', '-qam', 'second');
  return { dir, first, second: await git(dir, 'rev-parse', 'HEAD') };
}

function series(stamp: string, base: string | undefined): Mail[] {
  const cover = `${stamp}.1-0-author@example.org`;
  return [
    { id: cover, from: AUTHOR, date: 'Mon, 1 Jan 2024 10:00:00 +0100', subject: '[PATCH 0/1] toy: louder', body: `Louder.\n\n${base ? `base-commit: ${base}\n` : ''}` },
    {
      id: `${stamp}.1-1-author@example.org`, from: AUTHOR, date: 'Mon, 1 Jan 2024 10:00:01 +0100', subject: '[PATCH 1/1] toy: louder', inReplyTo: cover, references: [cover],
      body: 'Louder.\n\ndiff --git a/greet.c b/greet.c\n--- a/greet.c\n+++ b/greet.c\n@@ -5 +5 @@\n-\tprintf("hello\\n");\n+\tprintf("HELLO\\n");\n',
    },
  ];
}

async function applyWith(tree: string, mails: Mail[], ...extra: string[]) {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-mbox-'));
  await writeFile(join(dir, 'x.mbox'), mbox(raws(mails)));
  return kseries('apply', '--tree', tree, '--cache', join(dir, 'cache'), '--mbox', join(dir, 'x.mbox'), mails[0]!.id, '--no-lore', ...extra);
}

t.test('a series whose base-commit: the tree has goes onto it, and says so', async (t) => {
  const { dir, first } = await twoCommitTree();
  const r = await applyWith(dir, series('20240101100000', first));
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stdout, new RegExp(`^base: ${first.slice(0, 12)}, the series' base-commit:, found in the tree$`, 'm'));
  t.match(r.stdout, new RegExp(`onto ${first.slice(0, 12)}:`));
});

t.test("a base-commit: the tree lacks, or none, leaves the tree as it is, with the reason; --base wins", async (t) => {
  const { dir, first, second } = await twoCommitTree();
  const missing = await applyWith(dir, series('20240101110000', 'feedfacefeedfacefeedfacefeedfacefeedface'));
  t.equal(missing.exitCode, 0, missing.stderr);
  t.match(missing.stdout, /^base: the tree as it is \(the series' base-commit: feedfacefeed is not in the tree; --base REV or --guess-base picks one\)$/m);
  t.match(missing.stdout, new RegExp(`onto ${second.slice(0, 12)}:`));
  const none = await applyWith(dir, series('20240101120000', undefined));
  t.match(none.stdout, /^base: the tree as it is \(the series names no base-commit:\)$/m);
  const forced = await applyWith(dir, series('20240101130000', second), '--base', first);
  t.match(forced.stdout, new RegExp(`^base: ${first} \\(--base\\)$`, 'm'));
  t.match(forced.stdout, new RegExp(`onto ${first.slice(0, 12)}:`));
});

/** The toy tree with three commits that change greet.c; a series written against the second. */
async function threeGreetings(): Promise<{ dir: string; commits: string[]; blob2: string }> {
  const dir = await toyKernelRepo();
  const commits = [await git(dir, 'rev-parse', 'HEAD')];
  for (const word of ['hi', 'hey']) {
    await writeFile(join(dir, 'greet.c'), `#include <stdio.h>\n\nint main(void)\n{\n\tprintf("${word}\\n");\n\treturn 0;\n}\n`);
    await git(dir, 'commit', '-qam', word);
    commits.push(await git(dir, 'rev-parse', 'HEAD'));
  }
  // A later commit that leaves greet.c alone: the newest commit with the second state is its parent.
  await writeFile(join(dir, 'README'), 'toy\n');
  await git(dir, 'commit', '-qam', 'readme');
  return { dir, commits, blob2: (await git(dir, 'rev-parse', `${commits[1]}:greet.c`)).slice(0, 7) };
}

const againstHi = (blob: string): Mail[] => {
  const cover = '20240202100000.1-0-author@example.org';
  return [
    { id: cover, from: AUTHOR, date: 'Fri, 2 Feb 2024 10:00:00 +0100', subject: '[PATCH 0/1] toy: shout hi', body: 'Shout.\n' },
    {
      id: '20240202100000.1-1-author@example.org', from: AUTHOR, date: 'Fri, 2 Feb 2024 10:00:01 +0100', subject: '[PATCH 1/1] toy: shout hi', inReplyTo: cover, references: [cover],
      body: `Shout.\n\ndiff --git a/greet.c b/greet.c\nindex ${blob}..1234567 100644\n--- a/greet.c\n+++ b/greet.c\n@@ -5 +5 @@\n-\tprintf("hi\\n");\n+\tprintf("HI\\n");\n`,
    },
  ];
};

t.test('--guess-base finds the commit whose files match the index lines, and says so; without it the series does not apply', async (t) => {
  const { dir, commits, blob2 } = await threeGreetings();
  const plain = await applyWith((await threeGreetings()).dir, againstHi(blob2));
  t.equal(plain.exitCode, 2, 'onto HEAD (hey) it does not apply');
  t.match(plain.stdout, /--base REV or --guess-base picks one|names no base-commit/);
  const r = await applyWith(dir, againstHi(blob2), '--guess-base');
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stdout, new RegExp(`^base: ${commits[1]!.slice(0, 12)}, guessed from the patches' index lines: 1 of 1 pre-image blobs match \\(the series names no base-commit:; \\d+ commits compared\\)$`, 'm'));
  t.match(r.stdout, new RegExp(`onto ${commits[1]!.slice(0, 12)}:`), 'onto "hi", not the newest commit touching README');
  const none = await applyWith((await threeGreetings()).dir, againstHi('abcdef0'), '--guess-base');
  t.match(none.stdout, /^base: the tree as it is \(the series names no base-commit:, and --guess-base found no commit holding any of the patches' pre-image blobs\)$/m);
});
