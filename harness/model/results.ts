// Types shared by the stages. Data flows one way: each stage returns one of
// these and never parses another stage's output format.

/** Status of a stage, a probe or a whole run. */
export type Status = 'PASS' | 'FAIL' | 'SKIP' | 'CRASHED' | 'TIMEOUT' | 'INFRA' | 'INTERRUPTED';

/** Process exit codes, documented in the README. */
export const ExitCode = {
  OK: 0,
  PROBE_FAILED: 1,
  USAGE: 2,
  INFRA: 3,
  KERNEL_PROBLEM: 4,
  TIMEOUT: 124,
  /** Ctrl-C, SIGINT or SIGTERM: 128 + SIGINT, as a shell reports it. */
  INTERRUPTED: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** What the crash classifier can recognise on a console. */
export type FindingKind =
  | 'panic'
  | 'oops'
  | 'bug'
  | 'warning'
  | 'kasan'
  | 'cut-here'
  | 'triple-fault'
  | 'reboot'
  | 'hang'
  | 'truncated'
  /** The TAP contradicts its own plan: more or fewer results than planned, a duplicate or out-of-sequence number. */
  | 'plan';

export interface Finding {
  kind: FindingKind;
  /** 1-based line number in console.log (0 when not tied to a line, e.g. a hang). */
  line: number;
  text: string;
  /** Subtest id (e.g. "readv_writev:compat") that was running when it appeared. */
  probe?: string;
}

/** One test point inside a probe's KTAP document. */
export interface ProbeCase {
  name: string;
  status: 'PASS' | 'FAIL' | 'SKIP';
  /** SKIP/TODO reason or other directive text. */
  reason?: string;
  /** "# ..." lines that belong to this case (evidence: return values, errno, offsets). */
  diagnostics: string[];
}

/** One probe × ABI subtest of the guest's top-level KTAP document. */
export interface ProbeResult {
  /** "<probe>:<abi>", e.g. "io_uring_readv:compat"; for --exec payloads "exec:<name>". */
  id: string;
  probe: string;
  abi: string;
  status: Status;
  reason?: string;
  cases: ProbeCase[];
  diagnostics: string[];
  /** Kernel-log lines the init echoed after this probe ("# kmsg: ..."). */
  kmsg: string[];
  findings: Finding[];
}

export interface ConsoleResult {
  status: Status;
  /** A KTAP/TAP document was found at all. */
  ktapFound: boolean;
  /** The top-level plan was satisfied. */
  complete: boolean;
  /** The guest shut down cleanly: "reboot: Power down", or the init's restart after "# kseries-init: done". */
  poweredOff: boolean;
  probes: ProbeResult[];
  /** Every finding, including those attributed to a probe. */
  findings: Finding[];
}

/** What "the same result" means everywhere (matrix marks, bisect steps, claims): status plus every case's status. */
export function fingerprint(p: ProbeResult): string {
  return [p.status, ...p.cases.map((c) => `${c.name}=${c.status}`)].join(' ');
}

/**
 * The diagnostics that decide a case, for a reviewer: the lines of the first tier any line
 * matches (a line is in a tier when one of its patterns matches it), at most `max` of them;
 * when no tier matches, the first or the last `max` lines. Bisect shows one line per case,
 * claims a few.
 */
export function decidingLines(
  diagnostics: readonly string[],
  tiers: readonly (readonly RegExp[])[],
  o: { max: number; fallback: 'first' | 'last' },
): string[] {
  for (const tier of tiers) {
    const hit = diagnostics.filter((l) => tier.some((re) => re.test(l)));
    if (hit.length > 0) return hit.slice(0, o.max);
  }
  return o.fallback === 'first' ? diagnostics.slice(0, o.max) : diagnostics.slice(-o.max);
}
