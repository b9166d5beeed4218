// Diffs posted in replies: a reviewer's "something like this?" is as much
// review material as the series, and is taken by its own Message-ID (as
// b4 am -P _ does), never replaced by the series of its thread.
import { parseUnifiedDiff } from '../apply/unified-diff.ts';
import type { MailMessage } from './mail-types.ts';
import { messageBody } from './mbox.ts';
import { parseSubject } from './subject.ts';

/** The message's body holds at least one unified diff hunk (quoted "> " lines do not count). */
export function carriesDiff(m: MailMessage): boolean {
  return parseUnifiedDiff(messageBody(m.raw)).some((f) => f.hunks.length > 0);
}

/** A reply (or an untagged mail) carrying a diff: not one of a series' [PATCH M/N] mails. */
export function isPostedDiff(m: MailMessage): boolean {
  const s = parseSubject(m.subject);
  return (s.reply || !s.patchTag) && carriesDiff(m);
}

/** "Pavel Begunkov <asml.silence@gmail.com>" → "Pavel Begunkov". */
export function senderName(from: string): string {
  const name = from.replace(/<[^>]*>/, '').replace(/"/g, '').trim();
  return name || from.trim();
}

/** The title a posted diff is listed under: whose diff, in reply to what. */
export function postedDiffTitle(m: MailMessage): string {
  return `diff by ${senderName(m.from)} in "${m.subject.replace(/\s+/g, ' ').trim()}"`;
}

/** A file that is only a diff (git diff or diff -u output, no mail header). */
export function isBareDiff(text: string): boolean {
  return !/^From /.test(text) && !/^[A-Za-z-]+: /.test(text) && parseUnifiedDiff(text).some((f) => f.hunks.length > 0);
}

/** A bare diff as a patch mail git am takes: its subject is the file's name. */
export function bareDiffMail(diff: Buffer, name: string): Buffer {
  const head = ['From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001', 'From: kseries <kseries@kseries.invalid>', `Subject: ${name}`, '', `Plain diff ${name}, given to kseries without a mail header.`, '---', ''].join('\n');
  return Buffer.concat([Buffer.from(head + '\n'), diff]);
}
