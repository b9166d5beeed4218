import t from 'tap';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ExitCode } from '../harness/model/results.ts';
import {
  decodeRfc2047,
  messageBody,
  normalizeMessageId,
  parseHeaders,
  parseMbox,
  parseMessage,
  readMbox,
  splitMbox,
  toMboxrd,
} from '../harness/mail/mbox.ts';
import { readMaildir } from '../harness/mail/maildir.ts';
import { KseriesError } from '../harness/util/errors.ts';

const FIX = join(import.meta.dirname, 'fixtures', 'series');

t.test('RFC 2047: q and b words, charsets, white space between words', async (t) => {
  t.equal(decodeRfc2047('=?utf-8?q?gr=C3=BC=C3=9Fe_dich?='), 'grüße dich');
  t.equal(decodeRfc2047('=?UTF-8?B?Z3LDvMOfZQ==?='), 'grüße');
  t.equal(decodeRfc2047('=?iso-8859-1?Q?gr=FC=DFe?= there'), 'grüße there');
  t.equal(decodeRfc2047('=?utf-8?q?a?= =?utf-8?q?b?='), 'ab', 'blank between encoded words dropped');
  t.equal(decodeRfc2047('x =?utf-8?q?a?= y'), 'x a y', 'blank next to plain text kept');
  t.equal(decodeRfc2047('=?utf-8?b?w6k=?=!'), 'é!');
  // A UTF-8 character split across two words decodes as one character.
  const b = Buffer.from('ü');
  t.equal(decodeRfc2047(`=?utf-8?b?${b.subarray(0, 1).toString('base64')}?= =?utf-8?b?${b.subarray(1).toString('base64')}?=`), 'ü');
  t.equal(decodeRfc2047('no words here'), 'no words here');
});

t.test('headers: unfolding, ids without brackets, first value wins', async (t) => {
  const m = parseMessage(
    'From: A <a@example.org>\nSubject: [PATCH 1/2] a long\n  folded subject\nMessage-Id: <x@y>\n' +
      'In-Reply-To: <p@y> (A\'s message of yesterday)\nReferences: <r1@y>\n\t<r2@y> <p@y>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\nbody\n',
  )!;
  t.equal(m.messageId, 'x@y');
  t.equal(m.inReplyTo, 'p@y');
  t.same(m.references, ['r1@y', 'r2@y', 'p@y']);
  t.equal(m.subject, '[PATCH 1/2] a long folded subject');
  t.equal(m.from, 'A <a@example.org>');
  t.equal(m.date, 'Mon, 1 Jan 2024 00:00:00 +0000');
  t.equal(parseMessage('Subject: no id\n\nbody\n'), null);
  t.same(parseHeaders('X-A: 1\nx-a: 2\n').get('x-a'), ['1', '2']);
});

t.test('normalizeMessageId accepts <id>, id:, lore URLs', async (t) => {
  t.equal(normalizeMessageId('<a.b@c>'), 'a.b@c');
  t.equal(normalizeMessageId('id:a.b@c'), 'a.b@c');
  t.equal(normalizeMessageId('https://lore.kernel.org/all/a.b@c/'), 'a.b@c');
  t.equal(normalizeMessageId('https://lore.kernel.org/io-uring/a%2Fb@c/T/#t'), 'a/b@c');
  t.equal(normalizeMessageId(' a.b@c '), 'a.b@c');
});

t.test('the toy mbox splits into messages, >From unescaped', async (t) => {
  const msgs = await readMbox(join(FIX, 'toy-series.mbox'));
  t.equal(msgs.length, 13);
  const p1 = msgs.find((m) => m.messageId === '20240101090000.1000-2-author@example.org')!;
  t.match(p1.raw.toString(), /\n\nFrom the start the greeting was fixed/, 'mboxrd >From unescaped');
  t.notMatch(p1.raw.toString(), /^From mboxrd/m, 'no From_ line in raw');
  t.ok(p1.raw.toString().endsWith('2.40.0\n'), 'separator blank line not part of the message');
  t.same(p1.references, ['20240101090000.1000-1-author@example.org']);
});

t.test('gzip mbox reads the same as plain', async (t) => {
  const plain = await readMbox(join(FIX, 'toy-series.mbox'));
  const gz = await readMbox(join(FIX, 'toy-series.mbox.gz'));
  t.same(gz, plain);
  // The gzip magic decides, not the name.
  const dir = await mkdtemp(join(tmpdir(), 'kseries-mbox-'));
  await writeFile(join(dir, 'x.mbox'), gzipSync(Buffer.from('From a@b Mon Jan  1 00:00:00 2024\nMessage-ID: <q@r>\n\nhi\n')));
  t.equal((await readMbox(join(dir, 'x.mbox')))[0]!.messageId, 'q@r');
});

t.test('CRLF mbox with encoded, folded subjects', async (t) => {
  const msgs = await readMbox(join(FIX, 'rfc2047-crlf.mbox'));
  t.same(msgs.map((m) => m.subject), [
    '[PATCH 0/2] toy: grüße with umlauts',
    '[PATCH 1/2] toy: grüße one',
    '[PATCH 2/2] toy: grüße two, folded',
  ]);
  t.equal(msgs[0]!.from, 'A. U. Thör <author@example.org>');
  t.equal(msgs[1]!.inReplyTo, 'enc-0@example.org');
  t.match(messageBody(msgs[1]!.raw), /^\+static const char \*greeting = "hello";\r$/m);
});

t.test('corrupt mboxes are usage errors naming the file', async (t) => {
  for (const [file, why] of [
    ['corrupt-no-from.mbox', /does not start with a "From " line/],
    ['corrupt-no-headers.mbox', /have no headers/],
    ['corrupt-no-message-id.mbox', /no message has a Message-ID/],
  ] as const) {
    const path = join(FIX, file);
    const e = await readMbox(path).then(() => null, (err: unknown) => err);
    t.ok(e instanceof KseriesError, file);
    t.equal((e as KseriesError).exitCode, ExitCode.USAGE);
    t.match((e as Error).message, why);
    t.ok((e as Error).message.includes(path), 'names the file');
    t.notMatch((e as Error).message, /\n/, 'one line');
  }
  await t.rejects(readMbox('/nonexistent/x.mbox'), { exitCode: ExitCode.USAGE, message: /cannot be read/ });
  const dir = await mkdtemp(join(tmpdir(), 'kseries-mbox-'));
  await writeFile(join(dir, 'bad.gz'), Buffer.from([0x1f, 0x8b, 1, 2, 3]));
  await t.rejects(readMbox(join(dir, 'bad.gz')), { exitCode: ExitCode.USAGE, message: /corrupt gzip/ });
});

t.test('From_ lines: only real separators split', async (t) => {
  const text =
    'From abc Mon Sep 17 00:00:00 2001\nMessage-ID: <1@x>\n\nFrom here on, a body line.\nFrom me to you\n\n' +
    'From def Mon Sep 17 00:00:00 2001\nMessage-ID: <2@x>\n\n>>From quoted\n';
  const raws = splitMbox(text);
  t.equal(raws.length, 2);
  t.match(raws[0]!.toString(), /From here on, a body line\.\nFrom me to you\n$/);
  t.match(raws[1]!.toString(), /\n>From quoted\n$/, 'mboxrd removes one >');
  t.same(parseMbox(text, 'x').map((m) => m.messageId), ['1@x', '2@x']);
});

t.test('toMboxrd round-trips', async (t) => {
  const msgs = await readMbox(join(FIX, 'toy-series.mbox'));
  const again = parseMbox(toMboxrd(msgs), 'again');
  t.same(again.map((m) => m.raw), msgs.map((m) => m.raw));
});

t.test('messageBody undoes transfer encodings and picks text parts', async (t) => {
  t.equal(
    messageBody('Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n+gr=C3=BC=\nn\n-x =3D 1\n'),
    '+grün\n-x = 1\n',
  );
  t.equal(messageBody(`Content-Transfer-Encoding: base64\n\n${Buffer.from('diff --git a/x b/x\n').toString('base64')}\n`), 'diff --git a/x b/x\n');
  const multi =
    'Content-Type: multipart/mixed; boundary="BB"\n\npreamble\n--BB\nContent-Type: text/plain\n\nhello\n--BB\n' +
    'Content-Type: image/png\nContent-Transfer-Encoding: base64\n\nAAAA\n--BB\nContent-Type: text/x-patch\n\n--- a/f\n+++ b/f\n--BB--\n';
  t.equal(messageBody(multi), 'hello\n\n--- a/f\n+++ b/f\n');
});

t.test('maildir: cur/ and new/, a From_ line at the top tolerated', async (t) => {
  const msgs = await readMaildir(join(FIX, 'toy-v3.maildir'));
  t.equal(msgs.length, 4);
  t.same(new Set(msgs.map((m) => m.subject)), new Set([
    'toy: make the greeting configurable v3',
    '[PATCH 01/03] toy: add a greeting variable',
    '[PATCH 02/03] toy: read the greeting from the environment',
    '[PATCH 03/03] toy: document GREETING and drop old.sh',
  ]));
  const dir = await mkdtemp(join(tmpdir(), 'kseries-maildir-'));
  await t.rejects(readMaildir(dir), { exitCode: ExitCode.USAGE, message: /is not a maildir/ });
  await mkdir(join(dir, 'new'));
  await writeFile(join(dir, 'new', '1.x'), 'From someone Mon Jan  1 00:00:00 2024\nMessage-ID: <m@x>\nSubject: s\n\nb\n');
  await writeFile(join(dir, 'new', '.hidden'), 'ignored');
  const one = await readMaildir(dir);
  t.same(one.map((m) => [m.messageId, m.raw.toString().startsWith('Message-ID')]), [['m@x', true]]);
});
