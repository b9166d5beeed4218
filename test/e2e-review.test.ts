// End to end: kseries review on Debian's 6.1 (the default tree) with a thread
// made here from the offline profile's own demo series: v1 is the demo (patch
// 3/5 refuses compat rings among four comment patches), v2 drops the refusal,
// and a reviewer's reply under v2 posts kseries' own "corrected" diff (refuse
// SQPOLL for compat tasks only). Real builds and boots, one x86_64 kernel per
// variant; the builds of the demo are shared with the claims run.
import t from 'tap';
import { execa } from 'execa';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitMbox } from '../harness/mail/mbox.ts';
import { schemaErrors } from './fixtures/json/validate.ts';

const repo = join(import.meta.dirname, '..');
const profileDir = join(repo, 'patches/compat-sqpoll-6.1');
const cacheArgs = process.env.KSERIES_CACHE ? ['--cache', process.env.KSERIES_CACHE] : [];
const kseries = (args: string[]) => execa('node', [join(repo, 'bin/kseries.js'), ...args], { reject: false, all: true, env: { FORCE_COLOR: '0' } });

const V2_COVER = 'v2-cover.1795782012.git.dev@kseries.invalid';

/** The demo as v1, a v2 without its patch 3, and a reply under the v2 cover carrying a diff. */
async function threadMbox(): Promise<string> {
  const demo = await readFile(join(profileDir, 'series/refuse-compat-demo.mbox'));
  const v1 = splitMbox(demo).map((r) => r.toString('latin1'));
  const keep = [1, 2, 4, 5];
  const v2 = [
    `From: kseries developers <dev@kseries.invalid>\nDate: Sat, 28 Nov 2026 12:00:00 +0000\nSubject: [PATCH v2 0/4] io_uring: refuse compat rings, among harmless comments\nMessage-Id: <${V2_COVER}>\n\nv2: the refusal is gone; only the comments are left.\n`,
    ...keep.map((n, i) =>
      v1[n]!
        .replace(/^Message-Id: <[^>]+>/m, `Message-Id: <v2-${i + 1}.1795782012.git.dev@kseries.invalid>`)
        .replace(/^In-Reply-To: <[^>]+>/m, `In-Reply-To: <${V2_COVER}>`)
        .replace(/^References: <[^>]+>/m, `References: <${V2_COVER}>`)
        .replace(/^Date: .*$/m, `Date: Sat, 28 Nov 2026 12:0${i + 1}:00 +0000`)
        .replace(/^Subject: \[PATCH \d\/5\]/m, `Subject: [PATCH v2 ${i + 1}/4]`),
    ),
  ];
  const own = await readFile(join(profileDir, 'own/pavel-corrected.patch'), 'latin1');
  const diff = own.slice(own.indexOf('diff --git')).replace(/\n-- \n[\s\S]*$/, '\n');
  const reply = `From: Rev Yewer <reviewer@kseries.invalid>\nDate: Sun, 29 Nov 2026 09:00:00 +0000\nSubject: Re: [PATCH v2 0/4] io_uring: refuse compat rings, among harmless comments\nMessage-Id: <corrected@kseries.invalid>\nIn-Reply-To: <${V2_COVER}>\nReferences: <${V2_COVER}>\n\nShould SQPOLL alone be refused instead? Something like:\n\n${diff}`;
  const dir = await mkdtemp(join(tmpdir(), 'kseries-e2e-review-'));
  const file = join(dir, 'thread.mbox');
  const mails = [...v1, ...v2, reply].map((r) => `From mboxrd@z Thu Jan  1 00:00:00 1970\n${r.replace(/^(>*From )/gm, '>$1').replace(/\n*$/, '\n')}\n`);
  await writeFile(file, mails.join(''));
  return file;
}

t.test('review on 6.1: names the planted patch of v1, sees v2 drop it, and says what the reply diff changes', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'kseries-e2e-review-run-'));
  const r = await kseries([
    'review', '<corrected@kseries.invalid>', ...cacheArgs, '--profile', profileDir, '--mbox', await threadMbox(), '--no-lore',
    '--probe', 'io_uring_setup', '--probe', 'readv_writev', '--abi', 'compat', '--abi', 'native64', '--out', out,
  ]);
  t.equal(r.exitCode, 0, r.all);
  const json = JSON.parse(await readFile(join(out, 'review.json'), 'utf8'));
  t.same(schemaErrors(json), [], 'review.json of a real review validates against its schema');
  const [v1, v2] = json.revisions;
  t.equal(v1.changes.length, 1, 'v1 makes one change');
  t.match(v1.changes[0], { status: 'found', patch: { index: 3, total: 5, title: 'io_uring: refuse ring creation from compat tasks' } });
  const v1Cells = v1.changes[0].cells.map((c: { cell: string }) => c.cell);
  t.ok(v1Cells.includes('io_uring_setup:compat'), `v1 changes io_uring_setup:compat (${v1Cells})`);
  t.ok(v1Cells.every((c: string) => c.endsWith(':compat')), 'and only compat cells');
  t.match(v1.changes[0].firstBad, { prefix: 3 });
  t.match(v1.changes[0].lastGood, { prefix: 2 });
  t.same(v2.changes, [], 'v2 changes nothing the probes see');
  t.ok(json.comparisons.some((c: { text: string }) => /^v1 changes io_uring_setup:compat at 3\/5: PASS → FAIL \(.*setup_sqpoll PASS→FAIL.*\); v2 no longer does$/.test(c.text)), 'the comparison says v2 dropped it');
  const [reply] = json.replies;
  t.match(reply, { messageId: 'corrected@kseries.invalid', placement: { status: 'applied', onto: 'series', revision: 2 } });
  const replyCells = reply.changes.map((c: { cell: string }) => c.cell);
  t.ok(replyCells.includes('io_uring_setup:compat'), `the reply diff changes io_uring_setup:compat (${replyCells})`);
  t.ok(replyCells.every((c: string) => c.endsWith(':compat')), 'and nothing native');
  t.ok(json.usage.boots >= 6, `base, v1, v2, the reply and v1's bisect prefixes were booted (${json.usage.boots})`);
  const text = await readFile(join(out, 'review.txt'), 'utf8');
  t.ok(text.split('\n').every((l) => l.length <= 72), 'the plain-text report fits 72 columns');
  t.match(text, /first at patch 3\/5 "io_uring: refuse ring creation from compat\s+tasks"/);
  const side = /io_uring_setup:compat, the deciding cases:\n(?:.*\n)*?\s+setup_sqpoll\n(?<b>\s+base:\s+)PASS .*\n(?<p>\s+prefix 3:\s+)FAIL .*errno=22/.exec(text);
  t.ok(side, "the deciding evidence of the base and of the first bad prefix side by side");
  t.equal(side?.groups?.b?.length, side?.groups?.p?.length, "the base's status and the prefix's start in one column");
});
