// Mail model: messages as read from the sources, and the series assembled from them.
import type { DiffStat } from '../apply/apply-types.ts';

/** One e-mail, as read from an mbox, a maildir, a public-inbox archive or lore. */
export interface MailMessage {
  /** Without angle brackets. */
  messageId: string;
  inReplyTo?: string;
  /** Oldest first, without angle brackets. */
  references: string[];
  from: string;
  /** RFC 2822 Date header as written. */
  date: string;
  /** Decoded (RFC 2047) and unfolded Subject. */
  subject: string;
  /** The whole message as found (headers + body), byte for byte, for git am / git mailinfo. */
  raw: Buffer;
}

/** One patch of an assembled series, in order. */
export interface SeriesPatch {
  /** 1-based position in the series as posted ("3" of "[PATCH v2 3/11]"). */
  index: number;
  total: number;
  /** Subject without the [PATCH ...] prefix. */
  title: string;
  message: MailMessage;
  diffstat: DiffStat;
}

export interface Series {
  /** 1 when the posting carries no version. */
  revision: number;
  total: number;
  /** Subject of the cover without the prefix ("let import_iovec deal with compat_iovecs as well"). */
  title: string;
  cover?: MailMessage;
  patches: SeriesPatch[];
  /** From the "base-commit:" trailer, when present. */
  baseCommit?: string;
  author: string;
  date: string;
}
