// Apply model: diffstats of patches, and how each patch and hunk went in.

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
  /** The files the patch touches, as posted (its diffstat). */
  files: FileStat[];
}
