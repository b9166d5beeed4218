// Subject parsing: "[RFC PATCH v3 0/4] title", "Re: [PATCH 4/9 next] title",
// "title v4"; and the sender address and title normalization that decide
// whether two messages belong to one series.
export interface SubjectInfo {
  /** "Re:", "RE:", "Aw:", "Fwd:"... in front. */
  reply: boolean;
  /** Has a [PATCH ...]/[RFC ...] prefix or an M/N counter. */
  patchTag: boolean;
  /** From a "vN" tag in the prefix, or a trailing " vN" on an unnumbered subject. */
  revision?: number;
  /** "3" and "11" of "[PATCH v2 3/11]"; 0 for a cover "0/11". */
  index?: number;
  total?: number;
  /** The subject without prefixes (and without a trailing " vN" revision). */
  title: string;
}

const REPLY_PREFIX = /^(?:re|aw|sv|antw|vs|fwd?|fw)\s*(?:\[\d+\])?\s*:\s*/i;
const BRACKET = /^\[([^\]]*)\]\s*/;

/** Parse "[RFC PATCH v3 0/4] title", "Re: [PATCH 4/9 next] title", "title v4"... */
export function parseSubject(subject: string): SubjectInfo {
  let s = subject.replace(/\s+/g, ' ').trim();
  let reply = false;
  let patchTag = false;
  let revision: number | undefined;
  let index: number | undefined;
  let total: number | undefined;
  for (;;) {
    const re = REPLY_PREFIX.exec(s);
    if (re) {
      reply = true;
      s = s.slice(re[0].length);
      continue;
    }
    const br = BRACKET.exec(s);
    if (!br) break;
    s = s.slice(br[0].length);
    for (const tok of br[1]!.split(/[\s,]+/)) {
      const count = /^0*(\d+)\/0*(\d+)$/.exec(tok);
      const ver = /^-?(?:patch|rfc|patchset|resend)?v(\d+)$/i.exec(tok);
      if (count) {
        index = Number(count[1]);
        total = Number(count[2]);
        patchTag = true;
      } else if (ver) {
        revision ??= Number(ver[1]);
        if (/^(patch|rfc)/i.test(tok)) patchTag = true;
      } else if (/^(patch|patchset|rfc)/i.test(tok)) patchTag = true;
    }
  }
  // "let import_iovec deal with compat_iovecs as well v4": covers without a
  // [PATCH] prefix put the revision at the end.
  if (revision === undefined && (index === undefined || index === 0)) {
    const tail = / v(\d+)$/i.exec(s);
    if (tail) {
      revision = Number(tail[1]);
      s = s.slice(0, tail.index);
    }
  }
  return {
    reply,
    patchTag,
    ...(revision !== undefined ? { revision } : {}),
    ...(index !== undefined ? { index } : {}),
    ...(total !== undefined ? { total } : {}),
    title: s.trim(),
  };
}

/** The e-mail address of a From header, lower case ("Christoph Hellwig <hch@lst.de>" → hch@lst.de). */
export function senderAddress(from: string): string {
  const m = /<([^<>]+)>/.exec(from);
  return (m ? m[1]! : from.replace(/\(.*\)/, '')).trim().toLowerCase();
}

/** Titles compare case- and white-space-insensitively. */
export function normalizeTitle(title: string): string {
  return title.replace(/\s+/g, ' ').trim().toLowerCase();
}

