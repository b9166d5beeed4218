// Crash classifier: recognises kernel trouble on the console and attributes
// it to the probe whose subtest was open at that line. Pure: lines in,
// findings out.
//
// Sources scanned: every console line that is not TAP (kernel/firmware
// output, timestamped or not), plus the messages the init echoes from
// /dev/kmsg as "# kmsg: ..." TAP comments — with a quiet console loglevel
// those echoes are the only place a WARNING shows up.

import type { Finding, FindingKind } from '../model/results.ts';
import type { ConsoleLine } from './lines.ts';
import { kernelMessage } from './printk.ts';

/** Console lines during which a probe's subtest was open (see ktap.ts). */
export interface AttributionSpan {
  id: string;
  start: number;
  /** undefined: still open when the console ended. */
  end?: number;
}

export interface ClassifyOptions {
  spans?: readonly AttributionSpan[];
  /** Console lines that are TAP (not kernel output); skipped except "# kmsg:" echoes. */
  tapLines?: ReadonlySet<number>;
}

export interface Classification {
  /** In console order. */
  findings: Finding[];
  /** The guest shut down cleanly: "reboot: Power down", or the init's restart after its "done" line. */
  poweredOff: boolean;
}

/** Kinds that mean the kernel itself misbehaved (→ CRASHED, exit 4). */
export const CRASH_KINDS: ReadonlySet<FindingKind> = new Set<FindingKind>([
  'panic',
  'oops',
  'bug',
  'kasan',
  'warning',
  'triple-fault',
  'reboot',
]);

/** The span open at `line` (latest start wins; an open-ended span runs to the end of the console). */
export function spanAt<S extends AttributionSpan>(spans: readonly S[], line: number): S | undefined {
  let hit: S | undefined;
  for (const s of spans) if (s.start <= line && (s.end === undefined || line <= s.end)) hit = s;
  return hit;
}

// Matched against the bare message (timestamp / kmsg prefix stripped),
// anchored at its start so e.g. "---[ end Kernel panic - not syncing ]---"
// does not count as a second panic. First match wins: KASAN and the x86/arm64
// page-fault headers also start with "BUG:" but are not plain BUGs.
const SPLAT_PATTERNS: readonly [FindingKind, RegExp][] = [
  ['cut-here', /^-+\[ cut here \]-+/],
  ['panic', /^Kernel panic - not syncing/],
  ['kasan', /^BUG: KASAN:/],
  // The oops line itself ("Oops: 0000 [#1]", arm64 "Internal error: Oops",
  // x86 die() headers "invalid opcode: 0000 [#1]" / "general protection
  // fault…: 0000 [#1]") and the page-fault headers printed just before it.
  [
    'oops',
    /^(?:Oops\b|Internal error: Oops|BUG: unable to handle|BUG: kernel NULL pointer dereference|Unable to handle kernel )|^[^:[]+: [0-9a-f]{4} \[#\d+\]/,
  ],
  ['bug', /^(?:kernel BUG at |BUG: )/],
  // "WARNING: CPU: 0 PID: 1 at …" (WARN*), "WARNING: at …" (old kernels), and
  // lockdep/RCU splats ("WARNING: possible circular locking dependency
  // detected"): the kernel only ever starts a message with "WARNING: " for
  // these.
  ['warning', /^WARNING: /],
];

// Closes a splat: everything after it is a new event.
const SPLAT_END = /^---\[ end (?:trace|Kernel panic)/;
// An oops is announced by up to a few header lines of its own kind before
// the "Oops:" line ("BUG: kernel NULL pointer dereference", "#PF: …",
// "PGD 0 P4D 0", "Oops: 0000 [#1]"); a second oops line this close, with no
// end marker in between, is the same oops. Other kinds print one line per
// event, so a repeat is a new event (and the kmsg echo is deduplicated below).
const OOPS_WINDOW = 10;

const LINUX_BANNER = /^Linux version \d/;
const FIRMWARE_BANNER = /^(?:SeaBIOS \(version|iPXE \(|U-Boot \d|EFI stub: )/;
const RESTART = /^reboot: Restarting system/;
const POWER_DOWN = /^reboot: Power down/;
/** The init's completion line: a restart after it is the intended end of the run. */
const INIT_DONE = /^# kseries-init: done$/;

const KMSG_ECHO = /^\s*# kmsg: ?(.*)$/;

type Source = 'console' | 'kmsg';

/** Classify a console. Findings echoed via "# kmsg:" that repeat one already seen on the console are dropped. */
export function classifyConsole(lines: readonly ConsoleLine[], opts: ClassifyOptions = {}): Classification {
  const spans = opts.spans ?? [];
  const tapLines = opts.tapLines ?? new Set<number>();
  const found: (Finding & { source: Source })[] = [];
  // Last oops line per source, until an end marker; console and kmsg echo
  // lines are separate streams.
  const lastOops: Record<Source, { line: number; probe: string | undefined } | undefined> = {
    console: undefined,
    kmsg: undefined,
  };
  let poweredOff = false;
  let initDone = false;
  // Reset detection: a second kernel banner, or firmware starting again, after
  // the kernel booted; a kernel-initiated restart is reported once as 'reboot'.
  let booted = false;
  let resetReported = false;

  const record = (kind: FindingKind, line: ConsoleLine, text: string, source: Source, probe: string | undefined) => {
    const f: Finding & { source: Source } = { kind, line: line.no, text, source };
    if (probe !== undefined) f.probe = probe;
    found.push(f);
  };

  for (const line of lines) {
    if (INIT_DONE.test(line.text)) initDone = true;
    const echo = KMSG_ECHO.exec(line.text);
    const source: Source = echo ? 'kmsg' : 'console';
    if (!echo && tapLines.has(line.no)) continue;
    const msg = kernelMessage(echo ? echo[1]! : line.text);
    if (msg === '') continue;
    const probe = spanAt(spans, line.no)?.id;

    if (source === 'console') {
      if (POWER_DOWN.test(msg)) poweredOff = true;
      if (RESTART.test(msg) && initDone) poweredOff = true;
      else if (RESTART.test(msg) && !resetReported) {
        record('reboot', line, msg, source, probe);
        resetReported = true;
      }
      const banner = LINUX_BANNER.test(msg);
      if ((banner || FIRMWARE_BANNER.test(msg)) && booted && !resetReported) {
        record('triple-fault', line, `unexpected reset: ${msg}`, source, probe);
        resetReported = true;
      }
      if (banner) {
        if (booted) resetReported = false; // a new boot: the next reset is a new event
        booted = true;
      }
    }

    if (SPLAT_END.test(msg)) {
      lastOops[source] = undefined;
      continue;
    }
    const kind = SPLAT_PATTERNS.find(([, re]) => re.test(msg))?.[0];
    if (kind === undefined) continue;
    if (kind === 'oops') {
      const prev = lastOops[source];
      lastOops[source] = { line: line.no, probe };
      if (prev && prev.probe === probe && line.no - prev.line <= OOPS_WINDOW) continue;
    }
    record(kind, line, msg, source, probe);
  }

  // The init echoes /dev/kmsg after each probe, so a splat that also went to
  // the console appears twice; keep the console copy (it has the real
  // position). Each console finding absorbs at most one identical echo.
  const key = (f: Finding) => `${f.kind}\0${f.probe ?? ''}\0${f.text}`;
  const unmatched = new Map<string, number>();
  const findings: Finding[] = [];
  for (const f of found) {
    const k = key(f);
    if (f.source === 'kmsg' && (unmatched.get(k) ?? 0) > 0) {
      unmatched.set(k, unmatched.get(k)! - 1);
      continue;
    }
    if (f.source === 'console') unmatched.set(k, (unmatched.get(k) ?? 0) + 1);
    const { source: _source, ...finding } = f;
    findings.push(finding);
  }
  return { findings, poweredOff };
}
