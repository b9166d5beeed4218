// Extract the guest's KTAP/TAP document from the console and turn it into
// ProbeResults.
//
// Structure (subtests, plans, results, directives, comment order) comes from
// tap-parser. Two things it cannot give us are done here:
//  - the console is not a clean TAP stream: firmware garbage precedes the
//    header and kernel printk lines interleave anywhere, so only lines that
//    are TAP by grammar are fed to the parser; the rest stay for the crash
//    classifier, which needs their line numbers;
//  - tap-parser has no line numbers and emits a result only when the *next*
//    TAP line arrives, so the line spans that attribute kernel messages to a
//    probe are tracked here, by feeding one line at a time.

import { Parser, type Result } from 'tap-parser';
import type { ProbeCase, ProbeResult, Status } from '../model/results.ts';
import { caseStatus, outcomeOf, probeStatus, withNested } from './directives.ts';
import type { ConsoleLine } from './lines.ts';
import { NestedTracker } from './nested.ts';
import { stripPrintkTimestamp } from './printk.ts';
import { ALL_ABIS } from '../model/arch.ts';

/** Console lines during which a probe's subtest was open. */
export interface ProbeSpan {
  /** Index into KtapDocument.probes. */
  probeIndex: number;
  id: string;
  /** Line of its "# Subtest:" (or first) line. */
  start: number;
  /** Line of its result line; undefined if it never came (output truncated). */
  end?: number;
}

export interface KtapDocument {
  /** A KTAP/TAP header was found. */
  found: boolean;
  /** Console line of the header (0 when not found). */
  headerLine: number;
  /** The header as printed, e.g. "KTAP version 1" or "TAP version 13". */
  header?: string;
  /** The header was behind a printk timestamp (KTAP printed by the kernel, e.g. KUnit). */
  viaPrintk: boolean;
  /** Top-level plan, if seen. */
  plan?: { start: number; end: number };
  /** "Bail out!" reason, if the producer bailed out. */
  bailout?: string;
  /** Top-level plan present, results ≥ planned, no bail-out, no subtest left open. */
  complete: boolean;
  probes: ProbeResult[];
  spans: ProbeSpan[];
  /** Console lines consumed as TAP; everything else is kernel/firmware output. */
  tapLines: Set<number>;
  /** Last console line that belongs to the document (a second header starts a new boot's output). */
  lastLine: number;
  /** Comments not belonging to any probe (before the plan, after the last result), e.g. "kseries-init: uname …". */
  comments: string[];
  /** Plan violations (more/fewer results than planned, duplicate or out-of-sequence numbers), by the entry they occur in. */
  planIssues: { probeIndex: number; text: string }[];
}

const ABIS = new Set(ALL_ABIS);

/** "io_uring_readv:compat" → {probe: "io_uring_readv", abi: "compat"}; anything else (exec:x, kselftest names) keeps abi ''. */
export function splitProbeId(id: string): { probe: string; abi: string } {
  const i = id.lastIndexOf(':');
  if (i > 0 && ABIS.has(id.slice(i + 1))) return { probe: id.slice(0, i), abi: id.slice(i + 1) };
  return { probe: id, abi: '' };
}

const INIT_UNAME = /^kseries-init: uname \S+ (\S+)$/;

/**
 * The guest architecture the init reported ("kseries-init: uname 6.1.0
 * i686" → "i386"): the ABI of entries that have none of their own (--exec
 * programs run natively), so one program run on two kernels is two rows,
 * not one row with two answers. undefined for a log from another producer.
 */
export function guestArch(comments: readonly string[]): string | undefined {
  for (const c of comments) {
    const m = INIT_UNAME.exec(c);
    if (m) return /^i[3-6]86$/.test(m[1]!) ? 'i386' : m[1]!;
  }
  return undefined;
}

// --- finding the document -------------------------------------------------

// Searched anywhere in the line (not anchored at its start): the header may be
// glued behind escape-code leftovers, firmware garbage or a printk timestamp.
const HEADER_SEARCH = /(K?TAP version \d+)(?:\s*$|(?=\[\s*\d+\.\d+\]))/;
const TOP_HEADER = /^K?TAP version \d+$/;

export interface KtapStart {
  /** Index into the lines array. */
  index: number;
  header: string;
  /** Everything before the header on its line was a printk timestamp. */
  viaPrintk: boolean;
}

/** Locate the first KTAP/TAP header on the console. */
export function findKtapStart(lines: readonly ConsoleLine[]): KtapStart | undefined {
  for (let index = 0; index < lines.length; index++) {
    const text = lines[index]!.text;
    const m = HEADER_SEARCH.exec(text);
    if (!m) continue;
    const before = text.slice(0, m.index);
    // "[    0.51] KTAP version 1": the whole document comes through printk,
    // each line carrying a timestamp to strip (kunit_tool's prefix handling).
    const viaPrintk = before !== '' && stripPrintkTimestamp(before)?.trim() === '';
    return { index, header: m[1]!, viaPrintk };
  }
  return undefined;
}

// --- which console lines are TAP -------------------------------------------

const TEST_POINT = /^(?:not )?ok(?:\s|$)/;
const PLAN = /^\d+\.\.\d+(?:\s+#.*)?$/;
const OTHER_TAP = /^(?:#|K?TAP version \d+$|bail out!|pragma [+-])/i;

/**
 * Accepts only lines that are TAP by grammar (at a multiple of 4 spaces of
 * indentation, as KTAP/TAP subtests are), plus TAP 13 YAML blocks under a
 * test point. Kernel lines — timestamped or not, including splat bodies —
 * never match, so they cannot confuse tap-parser's subtest tracking.
 */
class TapLineFilter {
  #pointIndent: string | undefined;
  #yamlIndent: string | undefined;

  accept(text: string): boolean {
    if (this.#yamlIndent !== undefined) {
      if (text === this.#yamlIndent + '...') {
        this.#yamlIndent = undefined;
        return true;
      }
      return text.startsWith(this.#yamlIndent);
    }
    if (this.#pointIndent !== undefined && text === this.#pointIndent + '  ---') {
      this.#yamlIndent = this.#pointIndent + '  ';
      return true;
    }
    const m = /^((?: {4})*)(\S.*)$/.exec(text);
    const body = m?.[2];
    if (m === null || body === undefined) return false;
    if (TEST_POINT.test(body)) {
      this.#pointIndent = m[1]!;
      return true;
    }
    this.#pointIndent = undefined;
    return PLAN.test(body) || OTHER_TAP.test(body);
  }
}

/** TAP 13 YAML diagnostics as "key: value" lines. */
function yamlLines(diag: unknown): string[] {
  if (diag === null || typeof diag !== 'object') return [];
  return Object.entries(diag as Record<string, unknown>).map(
    ([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`,
  );
}

// Comments tap-parser emits itself rather than reading them from the input.
const SYNTHETIC_COMMENT = /^(?:Subtest(?::.*)?|test count\(\d+\) != plan\([^)]*\))$/;
const KMSG_PREFIX = /^kmsg: ?/;

function commentText(raw: string): string {
  return raw.replace(/^\s*#\s?/, '').trimEnd();
}

/** to.push(...from) without spreading: a log can end in 10^5+ comment lines, more than a call's argument limit. */
function append<T>(to: T[], from: readonly T[]): void {
  for (const x of from) to.push(x);
}

/** What a test prints when it did not test: kselftest's "[SKIP]" prefix, "not supported". */
const SKIP_TEXT = /^\[SKIP\]|\bnot supported\b/i;
/** The x86 selftests' (and others') own tags for a check that ran: "[OK]", "[PASS]". */
const RAN_TEXT = /^\[(?:OK|PASS)\]/;

/**
 * A pass that tested nothing. Where the test's own output says so, the entry
 * is a SKIP: its KTAP plan is "1..0 # SKIP", every case it reported is a
 * SKIP, or (no KTAP cases) it printed "[SKIP]" lines and no "[OK]"/"[PASS]"
 * one, the x86 selftests' convention. Otherwise a pass that also printed
 * "[SKIP] ..." or "not supported" stays a PASS with that line as its reason,
 * so the summary shows it.
 */
export function judgeVacuous(r: ProbeResult, skipAll?: string): ProbeResult {
  if (r.status !== 'PASS') return r;
  if (skipAll !== undefined && r.cases.length === 0) return { ...r, status: 'SKIP', reason: `plan 1..0: ${skipAll}` };
  if (r.cases.length > 0 && r.cases.every((c) => c.status === 'SKIP')) {
    const why = r.cases.find((c) => c.reason)?.reason;
    return { ...r, status: 'SKIP', reason: `every case skipped${why ? `: ${why}` : ''}` };
  }
  if (r.cases.length === 0 && r.reason === undefined) {
    const lines = r.diagnostics.map((d) => d.trim());
    const said = lines.find((d) => SKIP_TEXT.test(d));
    if (!said) return r;
    if (/^\[SKIP\]/.test(said) && !lines.some((d) => RAN_TEXT.test(d))) return { ...r, status: 'SKIP', reason: `exit 0, but it only skipped: ${said}` };
    return { ...r, reason: `passed, but printed: ${said}` };
  }
  return r;
}

/** An entry that broke its plan cannot pass (or skip): FAIL, the first violation as the reason. */
function withPlanIssues<S extends { status: Status; reason?: string }>(s: S, issues: readonly string[]): S {
  if (issues.length === 0 || (s.status !== 'PASS' && s.status !== 'SKIP')) return s;
  return { ...s, status: 'FAIL', reason: `plan: ${issues[0]}` };
}

// --- building probes from parser events ------------------------------------

interface OpenSubtest {
  name: string;
  start: number;
  cases: ProbeCase[];
  /** Comments since the last case: they belong to the next case, or to the probe if none follows. */
  pending: string[];
  kmsg: string[];
  /** tap-parser ended it (it does not, for an empty subtest cut short by "Bail out!"). */
  completed: boolean;
  /** Diagnostics after the last case. */
  trailing: string[];
  /** Its own plan said "1..0 # SKIP <reason>": it skipped everything. */
  skipAll?: string;
}

/** Parse the KTAP/TAP document on a console into probe results and line spans. */
export function parseKtap(lines: readonly ConsoleLine[]): KtapDocument {
  const doc: KtapDocument = {
    found: false,
    headerLine: 0,
    viaPrintk: false,
    complete: false,
    probes: [],
    spans: [],
    tapLines: new Set(),
    lastLine: lines.at(-1)?.no ?? 0,
    comments: [],
    planIssues: [],
  };
  const start = findKtapStart(lines);
  if (!start) return doc;
  doc.found = true;
  doc.headerLine = lines[start.index]!.no;
  doc.header = start.header;
  doc.viaPrintk = start.viaPrintk;

  const parser = new Parser();
  const nested = new NestedTracker(parser); // before our own listeners: see nested.ts
  let currentLine = doc.headerLine; // console line being fed; tap-parser events fire synchronously
  let topResults = 0;
  // Top-level comments since the previous result: they precede (belong to) the next result.
  let topPending: string[] = [];
  let topKmsg: string[] = [];
  // Top-level result lines in feed order, with where their output began;
  // the k-th root 'assert' is the k-th entry (tap-parser keeps order).
  const resultLines: { line: number; regionStart: number }[] = [];
  let regionStart: number | undefined;
  let subtestCommentLine: number | undefined;
  const byClosingResult = new Map<Result, OpenSubtest>();
  const subtests: OpenSubtest[] = [];

  const addProbe = (
    id: string,
    s: { status: Status; reason?: string },
    span: { start: number; end?: number },
    sub: OpenSubtest | undefined,
    extraDiagnostics: string[],
  ) => {
    const { probe, abi } = splitProbeId(id);
    const result: ProbeResult = {
      id,
      probe,
      abi,
      status: s.status,
      ...(s.reason !== undefined ? { reason: s.reason } : {}),
      cases: sub?.cases ?? [],
      diagnostics: [...topPending, ...(sub?.trailing ?? []), ...extraDiagnostics],
      kmsg: [...topKmsg, ...(sub?.kmsg ?? [])],
      findings: [],
    };
    topPending = [];
    topKmsg = [];
    doc.spans.push({ probeIndex: doc.probes.length, id, ...span });
    doc.probes.push(judgeVacuous(result, sub?.skipAll));
  };

  // Output ended (or bailed out) inside the subtest: no result line.
  const addUnfinished = (sub: OpenSubtest) => {
    const reason =
      doc.bailout !== undefined ? `bailed out: ${doc.bailout}` : 'no result line: console output ended inside the subtest';
    addProbe(sub.name || `subtest@${sub.start}`, { status: 'CRASHED', reason }, { start: sub.start }, sub, []);
  };

  parser.on('comment', (raw: string) => {
    const text = commentText(raw);
    if (text === '' || SYNTHETIC_COMMENT.test(text)) return;
    if (KMSG_PREFIX.test(text)) topKmsg.push(text.replace(KMSG_PREFIX, ''));
    else topPending.push(text);
  });

  parser.on('plan', (p: { start: number; end: number }) => {
    doc.plan = { start: p.start, end: p.end };
    // Comments before the plan describe the run, not the first probe.
    append(doc.comments, topPending);
    topPending = [];
  });

  parser.on('bailout', (reason: string) => {
    doc.bailout = reason || 'Bail out!';
  });

  parser.on('child', (child: Parser) => {
    const sub: OpenSubtest = {
      name: child.name,
      start: subtestCommentLine ?? currentLine,
      cases: [],
      pending: [],
      kmsg: [],
      trailing: [],
      completed: false,
    };
    subtests.push(sub);
    subtestCommentLine = undefined;
    child.on('comment', (raw: string) => {
      const text = commentText(raw);
      if (text === '' || SYNTHETIC_COMMENT.test(text)) return;
      if (KMSG_PREFIX.test(text)) sub.kmsg.push(text.replace(KMSG_PREFIX, ''));
      else sub.pending.push(text);
    });
    child.on('plan', (p: { start: number; end: number; comment?: string }) => {
      // A real "1..0 # SKIP why" line; tap-parser makes up "1..0 # no tests found" for output without a plan.
      if (p.end === 0 && /^SKIP\b/i.test(p.comment ?? '')) sub.skipAll = p.comment!.replace(/^SKIP\b\s*/i, '').trim() || 'skipped';
    });
    const below = NestedTracker.of(child);
    child.on('assert', (r: Result) => {
      const o = outcomeOf(r);
      const c: ProbeCase = { name: o.name || `#${r.id}`, ...withNested(o, caseStatus(o), below?.last.failure), diagnostics: [...sub.pending, ...yamlLines(r.diag)] };
      if (c.reason === undefined) delete c.reason;
      sub.cases.push(c);
      sub.pending = [];
    });
    child.on('complete', () => {
      sub.completed = true;
      sub.trailing = sub.pending;
      sub.pending = [];
      // closingTestPoint is set while the parent parses the result line that
      // ends this subtest; the root 'assert' for it comes a line later.
      if (child.closingTestPoint) {
        byClosingResult.set(child.closingTestPoint, sub);
      } else {
        addUnfinished(sub);
      }
    });
  });


  parser.on('assert', (r: Result) => {
    topResults++;
    const where = resultLines.shift();
    const line = where?.line ?? currentLine;
    const sub = byClosingResult.get(r);
    const o = outcomeOf(r);
    const id = o.name || sub?.name || `#${r.id || topResults}`;
    const span = sub ? { start: sub.start, end: line } : { start: where?.regionStart ?? line, end: line };
    const { failure, plan } = nested.last;
    for (const text of plan) doc.planIssues.push({ probeIndex: doc.probes.length, text });
    addProbe(id, withPlanIssues(withNested(o, probeStatus(o), failure), plan), span, sub, yamlLines(r.diag));
  });

  const filter = new TapLineFilter();
  for (let i = start.index; i < lines.length; i++) {
    const line = lines[i]!;
    let text: string;
    if (i === start.index) {
      text = start.header;
    } else {
      const stripped = start.viaPrintk ? stripPrintkTimestamp(line.text) : line.text;
      if (stripped === undefined) continue;
      // A second top-level header is a new document: the guest rebooted (or
      // something else started printing TAP). The first document ends here.
      if (TOP_HEADER.test(stripped)) {
        doc.lastLine = line.no - 1;
        break;
      }
      if (!filter.accept(stripped)) continue;
      text = stripped;
    }
    doc.tapLines.add(line.no);
    currentLine = line.no;
    if (!text.startsWith(' ')) {
      if (TEST_POINT.test(text)) {
        resultLines.push({ line: line.no, regionStart: regionStart ?? line.no });
        regionStart = undefined;
        subtestCommentLine = undefined;
      } else if (PLAN.test(text)) {
        regionStart = undefined;
      } else if (!TOP_HEADER.test(text)) {
        regionStart ??= line.no;
        if (/^# Subtest\b/.test(text)) subtestCommentLine = line.no;
      }
    } else {
      regionStart ??= line.no;
    }
    parser.write(text + '\n');
  }
  parser.end();
  // The top level's count (a subtest's is checked in nested.ts): the first
  // result past the plan carries it. Fewer results than planned is truncation.
  const planned = doc.plan ? Math.max(0, doc.plan.end - doc.plan.start + 1) : undefined;
  const extra = planned !== undefined && topResults > planned ? doc.probes[planned] : undefined;
  if (extra) {
    const text = `${topResults} results for a plan of ${planned} (${doc.plan!.start}..${doc.plan!.end})`;
    doc.planIssues.push({ probeIndex: planned!, text });
    Object.assign(extra, withPlanIssues(extra, [text]));
  }
  for (const sub of subtests) {
    if (sub.completed) continue;
    sub.trailing = sub.pending;
    addUnfinished(sub);
  }

  append(doc.comments, topPending);
  const arch = guestArch(doc.comments);
  if (arch) for (const p of doc.probes) if (p.abi === '') p.abi = arch;
  doc.complete =
    planned !== undefined &&
    topResults >= planned &&
    doc.bailout === undefined &&
    doc.spans.every(s => s.end !== undefined);
  return doc;
}
