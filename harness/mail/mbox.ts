// Reading e-mail: mbox splitting, header parsing and RFC 2047 decoding.
// Everything here except readMbox is pure, so maildir, public-inbox and lore
// sources all parse messages the same way.
//
// A message is kept as the bytes it came as: an 8-bit body in ISO-8859-1 is
// not UTF-8, and git am must see the original bytes. Splitting works on a
// latin1 view of the bytes (one char per byte, so nothing is lost); text is
// decoded only for headers and for display.
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { usageError } from '../util/errors.ts';
import type { MailMessage } from './mail-types.ts';

/** Header name (lower case) → values in order of appearance, unfolded. */
export type HeaderMap = Map<string, string[]>;

/** Bytes as a string of one char per byte, and back: lossless, for splitting raw mail. */
export const byteString = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
export const fromByteString = (s: string): Buffer => Buffer.from(s, 'latin1');
/** Text given by a caller (tests, format-patch output) is UTF-8. */
const asBytes = (m: Buffer | string): Buffer => (typeof m === 'string' ? Buffer.from(m, 'utf8') : m);

/** Split a message into its header block and body; tolerates CRLF line ends. */
export function splitHeaderBody(raw: string): { head: string; body: string } {
  const empty = /^\r?\n/.exec(raw);
  if (empty) return { head: '', body: raw.slice(empty[0].length) };
  const m = /\r?\n\r?\n/.exec(raw);
  if (!m) return { head: raw, body: '' };
  return { head: raw.slice(0, m.index), body: raw.slice(m.index + m[0].length) };
}

/** Parse an RFC 5322 header block, unfolding continuation lines. */
export function parseHeaders(head: string): HeaderMap {
  const headers: HeaderMap = new Map();
  let name = '';
  let value = '';
  const flush = () => {
    if (name === '') return;
    const key = name.toLowerCase();
    const list = headers.get(key) ?? [];
    list.push(value.trim());
    headers.set(key, list);
    name = '';
  };
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line)) {
      // Unfolding removes the line break only; the leading white space stays.
      if (name !== '') value += line;
      continue;
    }
    flush();
    const m = /^([!-9;-~]+):(.*)$/.exec(line);
    if (m) {
      name = m[1]!;
      value = m[2]!;
    }
  }
  flush();
  return headers;
}

export function header(headers: HeaderMap, name: string): string | undefined {
  return headers.get(name.toLowerCase())?.[0];
}

function decodeCharset(bytes: Uint8Array, charset: string): string {
  const cs = charset.replace(/\*.*$/, '').toLowerCase();
  try {
    return new TextDecoder(cs).decode(bytes);
  } catch {
    // Unknown charset: latin1 keeps every byte visible rather than failing.
    return Buffer.from(bytes).toString('latin1');
  }
}

function decodeQ(text: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '_') bytes.push(0x20);
    else if (c === '=' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(c, 'utf8'));
  }
  return Uint8Array.from(bytes);
}

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

/**
 * Decode RFC 2047 encoded words (=?utf-8?q?...?= and =?utf-8?b?...?=).
 * White space between two encoded words is dropped, and adjacent words in the
 * same charset are joined before decoding, since a UTF-8 character may be split
 * across two words.
 */
export function decodeRfc2047(value: string): string {
  if (!value.includes('=?')) return value;
  type Piece = { text: string } | { charset: string; bytes: Uint8Array };
  const pieces: Piece[] = [];
  let last = 0;
  for (const m of value.matchAll(ENCODED_WORD)) {
    const between = value.slice(last, m.index);
    const prev = pieces[pieces.length - 1];
    const afterWord = prev !== undefined && 'bytes' in prev && last > 0;
    if (between !== '' && !(afterWord && /^\s*$/.test(between))) pieces.push({ text: between });
    const bytes = m[2]!.toLowerCase() === 'b' ? Uint8Array.from(Buffer.from(m[3]!, 'base64')) : decodeQ(m[3]!);
    const top = pieces[pieces.length - 1];
    if (top && 'bytes' in top && top.charset.toLowerCase() === m[1]!.toLowerCase()) {
      top.bytes = Uint8Array.from([...top.bytes, ...bytes]);
    } else pieces.push({ charset: m[1]!, bytes });
    last = m.index + m[0].length;
  }
  if (last < value.length) pieces.push({ text: value.slice(last) });
  return pieces.map((p) => ('text' in p ? p.text : decodeCharset(p.bytes, p.charset))).join('');
}

/** Message-IDs in a header value, without angle brackets. */
export function messageIds(value: string | undefined): string[] {
  if (value === undefined) return [];
  const bracketed = [...value.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1]!);
  if (bracketed.length > 0) return bracketed;
  // Some mailers drop the brackets; accept bare tokens that look like ids.
  return value.split(/\s+/).filter((s) => s.includes('@'));
}

/** Strip brackets, "id:" and lore URLs from a user-supplied Message-ID. */
export function normalizeMessageId(s: string): string {
  let id = s.trim();
  const url = /^https?:\/\/[^/]+\/(?:[^/]+\/)?([^/]+@[^/]+)\/?/.exec(id);
  if (url) id = decodeURIComponent(url[1]!);
  id = id.replace(/^(?:id|mid):/i, '');
  if (id.startsWith('<') && id.endsWith('>')) id = id.slice(1, -1);
  return id.trim();
}

export interface MessageHeaders {
  messageId?: string;
  inReplyTo?: string;
  references: string[];
  from: string;
  date: string;
  subject: string;
}

/** The threading and display headers of a message (its header block is enough). */
export function messageHeaders(headers: HeaderMap): MessageHeaders {
  const messageId = messageIds(header(headers, 'message-id'))[0];
  const inReplyTo = messageIds(header(headers, 'in-reply-to'))[0];
  const references = (headers.get('references') ?? []).flatMap((v) => messageIds(v));
  const clean = (v: string | undefined) => decodeRfc2047(v ?? '').replace(/\s+/g, ' ').trim();
  return {
    ...(messageId !== undefined ? { messageId } : {}),
    ...(inReplyTo !== undefined ? { inReplyTo } : {}),
    references,
    from: clean(header(headers, 'from')),
    date: (header(headers, 'date') ?? '').replace(/\s+/g, ' ').trim(),
    subject: clean(header(headers, 'subject')),
  };
}

/** The header block of raw mail, decoded for reading (raw 8-bit headers are taken as UTF-8). */
export function headBlock(raw: Buffer | string): string {
  return Buffer.from(splitHeaderBody(byteString(asBytes(raw))).head, 'latin1').toString('utf8');
}

/** Parse one message (headers + body, no From_ line), kept byte for byte. Null when it has no Message-ID. */
export function parseMessage(raw: Buffer | string): MailMessage | null {
  const h = messageHeaders(parseHeaders(headBlock(raw)));
  if (h.messageId === undefined) return null;
  const { messageId, ...rest } = h;
  return { messageId, ...rest, raw: asBytes(raw) };
}

/**
 * A From_ separator line, as git mailsplit recognises it: "From " + sender + a
 * date with a time and a year. Body lines that merely begin with "From " (in
 * mboxo files, or format-patch output that never escapes) are left alone.
 */
export function isFromLine(line: string): boolean {
  return /^From \S+ .*\d{1,2}:\d{2}(:\d{2})?.*\d{4}\s*$/.test(line) || /^From \S+ .*\d{4} \d{1,2}:\d{2}/.test(line);
}

/** Split an mboxrd/mboxo file into raw messages (From_ line removed, >From unescaped), byte for byte. */
export function splitMbox(data: Buffer | string): Buffer[] {
  const lines = byteString(asBytes(data)).replace(/^(?:[ \t]*\r?\n)+/, '').split('\n');
  const out: Buffer[] = [];
  let cur: string[] | null = null;
  const end = () => {
    if (cur === null) return;
    // The blank line before the next From_ line belongs to the mbox format, not the message.
    while (cur.length > 0 && /^\r?$/.test(cur[cur.length - 1]!)) cur.pop();
    out.push(fromByteString(cur.join('\n') + '\n'));
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const bare = line.replace(/\r$/, '');
    if ((i === 0 && bare.startsWith('From ')) || isFromLine(bare)) {
      end();
      cur = [];
      continue;
    }
    if (cur === null) return [];
    // mboxrd: one '>' was added in front of every /^>*From / line; mboxo only for "From ".
    cur.push(/^>+From /.test(line) ? line.slice(1) : line);
  }
  end();
  return out;
}

/** Parse an mbox; a corrupt mbox is a usage error naming `label`. */
export function parseMbox(data: Buffer | string, label: string): MailMessage[] {
  const raws = splitMbox(data);
  if (raws.length === 0) throw usageError(`${label} is not an mbox: it does not start with a "From " line`);
  const messages: MailMessage[] = [];
  let headerless = 0;
  for (const raw of raws) {
    if (!/^[!-9;-~]+:/.test(headBlock(raw))) {
      headerless++;
      continue;
    }
    const m = parseMessage(raw);
    if (m) messages.push(m);
  }
  if (headerless === raws.length) throw usageError(`${label} is not an mbox: its messages have no headers`);
  if (messages.length === 0) throw usageError(`${label} is not an mbox: no message has a Message-ID`);
  return messages;
}

/** The bytes of a file, gunzipped when the gzip magic is present (whatever the file name says). */
export function decodeMaybeGzip(bytes: Buffer, label: string): Buffer {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes);
    } catch {
      throw usageError(`${label} is a corrupt gzip file`);
    }
  }
  return bytes;
}

/** Read an mbox file, plain or gzip-compressed. */
export async function readMbox(path: string): Promise<MailMessage[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    throw usageError(`--mbox ${path} cannot be read`);
  }
  return parseMbox(decodeMaybeGzip(bytes, path), path);
}

/** Write messages as an mboxrd (for git am), escaping /^>*From / body lines; bytes kept. */
export function toMboxrd(messages: readonly MailMessage[]): Buffer {
  const text = messages
    .map((m) => {
      const body = byteString(m.raw).replace(/\r\n/g, '\n').replace(/\n*$/, '\n');
      return `From mboxrd@z Thu Jan  1 00:00:00 1970\n${body.replace(/^(>*From )/gm, '>$1')}\n`;
    })
    .join('');
  return fromByteString(text);
}

function contentParam(value: string, name: string): string | undefined {
  const m = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** Undo the transfer encoding of a body (given as a byte string) and decode its charset. */
function decodeTransfer(body: string, encoding: string, charset: string): string {
  const enc = encoding.trim().toLowerCase();
  if (enc === 'base64') return decodeCharset(Uint8Array.from(Buffer.from(body.replace(/\s+/g, ''), 'base64')), charset);
  if (enc === 'quoted-printable') {
    const soft = body.replace(/=\r?\n/g, '');
    const bytes: number[] = [];
    for (let i = 0; i < soft.length; i++) {
      const hex = soft[i] === '=' ? soft.slice(i + 1, i + 3) : '';
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else bytes.push(soft.charCodeAt(i));
    }
    return decodeCharset(Uint8Array.from(bytes), charset);
  }
  // 7bit, 8bit, binary: the bytes as sent, in the declared charset.
  return decodeCharset(fromByteString(body), charset);
}

/**
 * The readable text of a message: transfer encoding undone, the charset
 * decoded, and for multipart mail the text/* parts joined (a patch may be
 * sent as a text/x-patch part). For reading only: git gets the raw bytes.
 */
export function messageBody(raw: Buffer | string): string {
  return bodyText(byteString(asBytes(raw)));
}

/** messageBody over a byte string (one char per byte). */
function bodyText(raw: string): string {
  const { head, body } = splitHeaderBody(raw);
  const headers = parseHeaders(fromByteString(head).toString('utf8'));
  const type = header(headers, 'content-type') ?? 'text/plain';
  const boundary = contentParam(type, 'boundary');
  if (/^\s*multipart\//i.test(type) && boundary !== undefined) {
    const parts = body.split(new RegExp(`^--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:--)?[ \\t]*\\r?$`, 'm'));
    return parts
      .slice(1, -1)
      .map((p) => p.replace(/^\r?\n/, ''))
      .filter((p) => {
        const t = header(parseHeaders(splitHeaderBody(p).head), 'content-type') ?? 'text/plain';
        return /^\s*(text|multipart)\//i.test(t);
      })
      .map(bodyText)
      .join('\n');
  }
  return decodeTransfer(body, header(headers, 'content-transfer-encoding') ?? '8bit', contentParam(type, 'charset') ?? 'utf-8');
}
