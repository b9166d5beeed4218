// An ISO-8859-1 mail with an 8-bit body must reach git as the bytes it came
// as: the applied file has to be what plain `git am` writes from the same
// mbox, whichever source the mail was read from.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { applySeries } from '../harness/apply/apply-series.ts';
import { messageBody } from '../harness/mail/mbox.ts';
import type { MailMessage } from '../harness/mail/mail-types.ts';
import { fetchLoreThread } from '../harness/mail/lore.ts';
import { findThread, openSources } from '../harness/mail/sources.ts';
import { prepareWorktree, variantBranch } from '../harness/apply/worktree.ts';
import { rangePatches } from '../harness/variant/patches.ts';
import { ENV, gitIn, makeRepo, removeTempDirs, tempDir } from './fixtures/apply/helpers.ts';
import { makeInbox } from './fixtures/series/make-inbox.ts';

t.teardown(removeTempDirs);

const BASE = { 'src/names.c': '/* Maintainers */\nstatic const char *names[] = {\n\t"Linus",\n};\n' };
const MSGID = 'latin1@example.org';
const LATIN1_LINE = Buffer.from('\t"J\xf6rg",\n', 'latin1'); // 0xF6: ö in ISO-8859-1, not valid UTF-8

/** The poster's diff (bytes, with its diffstat) of adding a Latin-1 name. */
function latin1Diff(): Buffer {
  const poster = makeRepo(BASE, 'poster');
  const p = join(poster, 'src/names.c');
  writeFileSync(p, Buffer.concat([Buffer.from('/* Maintainers */\nstatic const char *names[] = {\n\t"Linus",\n'), LATIN1_LINE, Buffer.from('};\n')]));
  return execFileSync('git', ['diff', '--no-color', '--stat', '-p'], { cwd: poster, env: ENV });
}

/** An ISO-8859-1 mail with Content-Transfer-Encoding: 8bit, as a Latin-1 mailer sends it. */
function latin1Mail(): Buffer {
  const head = [
    'From: =?iso-8859-1?q?J=F6rg_Hacker?= <joerg@example.org>',
    'Subject: [PATCH] names: add J=?iso-8859-1?q?=F6?=rg',
    'Date: Fri, 18 Sep 2020 14:45:25 +0200',
    `Message-ID: <${MSGID}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=iso-8859-1',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Add the new maintainer.',
    '',
    'Signed-off-by: J\xf6rg Hacker <joerg@example.org>',
    '---',
    '',
  ].join('\n');
  return Buffer.concat([Buffer.from(head, 'latin1'), latin1Diff(), Buffer.from('-- \n2.39.5\n')]);
}

const mboxOf = (mail: Buffer) => Buffer.concat([Buffer.from('From mboxrd@z Thu Jan  1 00:00:00 1970\n'), mail, Buffer.from('\n')]);

/** What plain git am makes of the mbox: the blob id of the patched file. */
function gitAmBlob(mboxFile: string): string {
  const repo = makeRepo(BASE, 'plain-am');
  execFileSync('git', ['am', '-q', mboxFile], { cwd: repo, env: ENV });
  return gitIn(repo)('rev-parse', 'HEAD:src/names.c');
}

async function applyMessage(message: MailMessage, variant: string) {
  const repo = makeRepo(BASE, 'target');
  const wt = await prepareWorktree({ tree: repo, worktreeDir: join(tempDir('wt'), 'w'), branch: variantBranch('test', variant) });
  const res = await applySeries({ worktreeDir: wt.worktreeDir, patches: [{ index: 1, total: 1, title: 'names: add Jörg', message }], allowMisplaced: false });
  const git = gitIn(wt.worktreeDir);
  return { report: res.reports[0]!, blob: git('rev-parse', 'HEAD:src/names.c'), file: execFileSync('git', ['show', 'HEAD:src/names.c'], { cwd: wt.worktreeDir }) };
}

const mail = latin1Mail();
const dir = tempDir('latin1');
const mboxFile = join(dir, 'series.mbox');
writeFileSync(mboxFile, mboxOf(mail));
const expected = gitAmBlob(mboxFile);

async function only(sources: Awaited<ReturnType<typeof openSources>>): Promise<MailMessage> {
  const msgs = await findThread(MSGID, sources, { lore: false });
  if (msgs.length !== 1) throw new Error(`expected one message, got ${msgs.length}`);
  return msgs[0]!;
}

const cases: [string, () => Promise<MailMessage>][] = [
  ['mbox', async () => only(await openSources({ mbox: [mboxFile] }))],
  [
    'maildir',
    async () => {
      const md = join(dir, 'maildir');
      for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(md, sub), { recursive: true });
      writeFileSync(join(md, 'cur', '1600433125.M1P1.host:2,S'), mail);
      return only(await openSources({ maildir: [md] }));
    },
  ],
  [
    'public-inbox',
    async () => {
      const inbox = join(dir, 'inbox.git');
      await makeInbox(inbox, [mail]);
      return only(await openSources({ inbox: [inbox] }));
    },
  ],
  [
    'lore',
    async () => {
      const body = gzipSync(mboxOf(mail));
      const fetch = async () => ({ ok: true, status: 200, arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer });
      const msgs = await fetchLoreThread(MSGID, { fetch });
      return msgs[0]!;
    },
  ],
];

for (const [source, load] of cases) {
  t.test(`${source}: the applied file is byte for byte what git am writes`, async (t) => {
    const message = await load();
    t.same(message.raw, mail, 'the message is kept as its bytes');
    t.match(message.from, /^Jörg Hacker/, 'headers are decoded for display');
    t.match(messageBody(message.raw), /\t"Jörg",/, 'the body reads in its charset');
    const got = await applyMessage(message, source);
    t.equal(got.blob, expected, 'same blob as plain git am');
    t.ok(got.file.includes(LATIN1_LINE), 'the Latin-1 byte is there');
    t.notOk(got.file.includes(Buffer.from('\ufffd')), 'no U+FFFD');
    t.equal(got.report.method, 'am');
    t.equal(got.report.patchIdApplied, got.report.patchIdPosted, 'not "changed on the way in"');
  });
}

t.test('--range: commits re-applied keep their non-UTF-8 bytes', async (t) => {
  const repo = makeRepo(BASE, 'range');
  const git = gitIn(repo);
  const base = git('rev-parse', 'HEAD');
  writeFileSync(join(repo, 'src/names.c'), Buffer.concat([Buffer.from('/* Maintainers */\n'), LATIN1_LINE]));
  git('commit', '-qam', 'names: Latin-1');
  const want = git('rev-parse', 'HEAD:src/names.c');
  const { list } = await rangePatches(repo, `${base}..HEAD`);
  t.ok(list.patches[0]!.message.raw.includes(LATIN1_LINE.subarray(1)), 'the mail holds the byte');
  const wt = await prepareWorktree({ tree: repo, worktreeDir: join(tempDir('wt'), 'w'), branch: variantBranch('test', 'range'), base });
  await applySeries({ worktreeDir: wt.worktreeDir, patches: list.patches, allowMisplaced: false });
  t.equal(gitIn(wt.worktreeDir)('rev-parse', 'HEAD:src/names.c'), want, 'same blob as the original commit');
});
