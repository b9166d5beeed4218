// The one precedence ladder from console facts to a status and its exit
// code. Live runs, `kseries parse`, merged multi-kernel results and single
// probes cut short all climb this ladder; nothing else decides a verdict.

import { ExitCode, type ExitCodeValue, type Finding, type FindingKind, type ProbeResult, type Status } from '../model/results.ts';
import { CRASH_KINDS } from './classify.ts';

/** Kinds that mean the KTAP document cannot be trusted to be whole (→ CRASHED, exit 4). */
export const BROKEN_KTAP_KINDS: ReadonlySet<FindingKind> = new Set<FindingKind>(['truncated', 'plan']);

export interface VerdictFacts {
  findings: readonly Finding[];
  probes: readonly Pick<ProbeResult, 'status'>[];
  /** Default true: callers judging only findings and probes. */
  ktapFound?: boolean;
  complete?: boolean;
}

export interface Verdict {
  status: Status;
  exitCode: ExitCodeValue;
}

interface Rung extends Verdict {
  holds: (f: VerdictFacts) => boolean;
}

const has = (f: VerdictFacts, kinds: ReadonlySet<FindingKind>) => f.findings.some((x) => kinds.has(x.kind));
const probeIs = (f: VerdictFacts, ...s: Status[]) => f.probes.some((p) => s.includes(p.status));

/**
 * First rung that holds wins:
 *   CRASHED 4    a kernel crash finding: panic, oops, BUG, KASAN, WARNING, triple fault / unexpected reset, reboot
 *   TIMEOUT 124  the guest hung and the runner killed QEMU ('hang' finding, from its mark in the log)
 *   CRASHED 4    no KTAP, KTAP or truncated (the guest died quietly)
 *   TIMEOUT 124  an entry ran past its timeout and the init killed it
 *   FAIL 1       an entry failed (or was cut short)
 *   PASS 0       everything passed or was skipped
 * USAGE (2) and INFRA (3) are decided before a console exists.
 */
const LADDER: readonly Rung[] = [
  { status: 'CRASHED', exitCode: ExitCode.KERNEL_PROBLEM, holds: (f) => has(f, CRASH_KINDS) },
  { status: 'TIMEOUT', exitCode: ExitCode.TIMEOUT, holds: (f) => f.findings.some((x) => x.kind === 'hang') },
  {
    status: 'CRASHED',
    exitCode: ExitCode.KERNEL_PROBLEM,
    holds: (f) => f.ktapFound === false || f.complete === false || has(f, BROKEN_KTAP_KINDS),
  },
  { status: 'TIMEOUT', exitCode: ExitCode.TIMEOUT, holds: (f) => probeIs(f, 'TIMEOUT') },
  { status: 'FAIL', exitCode: ExitCode.PROBE_FAILED, holds: (f) => probeIs(f, 'FAIL', 'CRASHED') },
];

export function verdictFor(facts: VerdictFacts): Verdict {
  const rung = LADDER.find((r) => r.holds(facts));
  return rung ? { status: rung.status, exitCode: rung.exitCode } : { status: 'PASS', exitCode: ExitCode.OK };
}
