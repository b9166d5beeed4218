// The review's data: what was collected from the thread, what each variant
// observed, and what changed where. Produced by the engine, read by report.ts.
import type { PatchToApply } from '../apply/apply-series.ts';
import type { MailMessage } from '../mail/mail-types.ts';
import type { StepObservation } from '../bisect/search.ts';

/** "io_uring_setup:compat", or "run:<cmd>" for a --run command. */
export type CellId = string;

/** A patch as the report names it. */
export interface PatchRef {
  index: number;
  total: number;
  title: string;
  messageId: string;
}

export interface ReviewRevision {
  revision: number;
  title: string;
  rootId: string;
  date: string;
  patches: PatchRef[];
  /** What applySeries takes (absent when the revision could not be assembled). */
  toApply?: PatchToApply[];
  /** Why the revision is left out: patches missing from the sources, two messages for one patch. */
  incomplete?: string;
}

export interface ReplyDiff {
  messageId: string;
  from: string;
  subject: string;
  date: string;
  /** The revision of the series (and patch, when it replies to one) the reply is under. */
  under?: { revision: number; patch?: number };
  message: MailMessage;
  /** --port FILE given for it: applied instead of the posted diff. */
  port?: string;
}

/** Where a reply's diff went, or why it went nowhere. */
export interface Placement {
  status: 'applied' | 'refused';
  /** applied: onto the full series of `revision`, or onto the base. */
  onto?: 'series' | 'base';
  revision?: number;
  /** Each place tried, in order, and why it did not take the diff. */
  tried: { onto: string; reason: string; hunk?: string }[];
  /** refused: the reason the last place gave. */
  reason?: string;
}

/** A thing built and booted (or, with --run, checked out and tested). */
export interface ReviewVariant {
  /** "base", "v2", "v2/prefix-3", "reply <id>" */
  name: string;
  patches: PatchToApply[];
}

/** What one observation group (a kernel: x86_64, i386; or 'run') saw of every cell it has. */
export type GroupObservation =
  | { kind: 'observed'; cells: Map<CellId, StepObservation>; cached: boolean; runDir?: string }
  | { kind: 'skip'; reason: string }
  | { kind: 'left-out'; reason: string };

/** How a variant's cells are observed: by building and booting, or by a --run command. */
export interface ReviewObserver {
  /** The observation groups, in order: one kernel per arch, or ['run']. */
  readonly groups: readonly string[];
  /** Every cell, and the group that observes it. */
  readonly cells: readonly { cell: CellId; group: string }[];
  /** Would observing this variant in this group need a new build? (false: cached, or nothing to build) */
  needsBuild(v: ReviewVariant, group: string): Promise<boolean>;
  observe(v: ReviewVariant, group: string, dirName: string): Promise<GroupObservation>;
}

export interface CellValue {
  value?: string;
  /** Why there is no value: skipped (build failed, exit 125) or left out (--max-builds). */
  missing?: string;
  evidence?: unknown;
}

export interface CellChange {
  cell: CellId;
  from: string;
  to: string;
}

/** One change a revision makes against the base, and the patch that makes it. */
export interface RevisionChange {
  revision: number;
  status: 'found' | 'ambiguous' | 'undecided';
  cells: CellChange[];
  /** found: the first patch whose prefix shows the change. */
  patch?: PatchRef;
  /** ambiguous: any of these may be the first. */
  candidates?: PatchRef[];
  /** The deciding evidence: the base's, and the last good and first bad prefixes', per cell. */
  base: { evidence: Record<CellId, unknown> };
  lastGood?: { prefix: number; evidence: Record<CellId, unknown> };
  firstBad?: { prefix: number; evidence: Record<CellId, unknown> };
  /** The prefixes this change's bisect observed. */
  prefixes: number[];
  reason?: string;
}

export interface ReplyResult {
  messageId: string;
  from: string;
  subject: string;
  under?: { revision: number; patch?: number };
  placement: Placement;
  port?: string;
  /** What it changes against what it was placed onto. */
  changes: CellChange[];
  /** Cells that could not be compared (no value on one side). */
  undecided: CellId[];
}

export interface Comparison {
  cell: CellId;
  /** "v1 changes X (a → b); v2 no longer does" */
  text: string;
  from: number;
  to: number;
}

export interface ReviewUsage {
  /** Kernels (or --run checkouts) observed. */
  observations: number;
  newBuilds: number;
  cachedBuilds: number;
  boots: number;
  ms: number;
}

export interface ReviewReport {
  messageId: string;
  title: string;
  tree: string;
  tester: string;
  cells: CellId[];
  /** variant → cell → value, for the summary table: the base, each revision, each reply diff. */
  table: { variant: string; values: Record<CellId, CellValue> }[];
  revisions: { revision: number; rootId: string; patches: PatchRef[]; incomplete?: string; changes: RevisionChange[] }[];
  replies: ReplyResult[];
  comparisons: Comparison[];
  /** What --max-builds (or a failure) left out. */
  leftOut: string[];
  usage: ReviewUsage;
  plan: ReviewPlanSummary;
}

export interface ReviewPlanSummary {
  variants: string[];
  groups: string[];
  builds: number;
  cached: number;
  boots: number;
  maxBuilds?: number;
  estimateMs: number;
  /** What the estimate assumed per step (from the cache's own build times, else defaults). */
  estimate: { coldBuildMs: number; seededBuildMs: number; bootMs: number; checkoutMs: number };
  /** Bisects come on top: up to this many prefix steps per change found, per kernel. */
  bisectStepsPerChange: Record<number, number>;
}
