// Types shared by the series stages: sources → thread assembly → apply.

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

export interface FileStat {
  path: string;
  insertions: number;
  deletions: number;
}

export interface DiffStat {
  files: FileStat[];
  insertions: number;
  deletions: number;
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

/** How one hunk went in. */
export interface HunkReport {
  file: string;
  /** 1-based hunk number within the file's diff. */
  hunk: number;
  /** Function named in the hunk's @@ header ('' when none). */
  headerFunction: string;
  /** Line offset from where the patch said it would apply (0 for an exact fit). */
  offset: number;
  fuzz: number;
  /** Function enclosing the landed hunk, found in the result ('' when none). */
  landedFunction: string;
  /** A fuzzed or offset hunk that landed in another function than its header names. */
  misplaced: boolean;
}

export type ApplyMethod = 'am' | 'am-3way' | 'fuzzy';

export interface PatchApplyReport {
  index: number;
  /** Length of the series the patch came from. */
  total: number;
  title: string;
  messageId: string;
  method: ApplyMethod;
  /** Hunks that needed an offset or fuzz (empty for a clean git am). */
  hunks: HunkReport[];
  /** `git patch-id --stable` of the patch as posted and of the commit as applied. */
  patchIdPosted: string;
  patchIdApplied: string;
  commit: string;
}
