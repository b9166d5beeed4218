// Claim verdicts from probe results: pure. Never guesses: a claim is only
// confirmed or refuted when every probe and case it refers to ran cleanly.
//
//   infra-error   a referenced variant could not be built or booted
//   inconclusive  a referenced probe/case is missing, SKIP, TIMEOUT or CRASHED,
//                 has kernel crash findings, is marked flaky, or ran twice with
//                 different results (unless the predicate asks for exactly
//                 that status, e.g. {"case": ..., "status": "SKIP"})
//   confirmed     the observable holds
//   refuted       the observable does not hold
import { CRASH_KINDS } from '../console/classify.ts';
import type { ConsoleResult, Finding, ProbeCase, ProbeResult, Status } from '../model/results.ts';
import { decidingLines, fingerprint } from '../model/results.ts';
import type { PatchApplyReport } from '../apply/apply-types.ts';
import { patchLabel, refLabel, type CaseStatus, type Claim, type PatchRef, type Predicate, type SeriesPredicate, sourceKey, type ProbeRef, type ProbeStatus, type Ref, type ClaimVerdict } from './spec.ts';

/** One variant's outcome: its results merged across kernels (compat, native64 and native32 probes). */
export interface VariantOutcome {
  status: 'ok' | 'infra';
  reason?: string;
  /** Absent for a variant that was only applied (its claims are about the series). */
  result?: ConsoleResult;
  /** ABIs whose kernel could not be built or booted, with why: their refs are infra-errors, the other ABIs decide. */
  failedAbis?: Record<string, string>;
  /** How each patch of the variant went in, in order: what series facts are decided from. */
  applied?: PatchApplyReport[];
  /** Source facts read from the applied tree, by sourceKey(): the matching lines ("file:line: text"), or the reason none could be read. */
  sources?: Record<string, { hits: string[] } | { error: string }>;
}
export type ClaimResults = Record<string, VariantOutcome>;

export interface EvidenceRow {
  variant: string;
  abi: string;
  probe: string;
  case?: string;
  /**
   * The case's status for a case ref, else the probe's; APPLIED for a patch of the series;
   * MISSING when absent, INFRA when the variant failed.
   */
  status: Status | 'MISSING' | 'APPLIED';
  /** A patch ref's patch number in its variant (abi and probe are then ''). */
  patch?: number;
  /** A source predicate's "path /pattern/" (abi and probe are then ''). */
  source?: string;
  /** SKIP/TODO reason, probe reason, or why it is missing. */
  reason?: string;
  /** The deciding diagnostic lines (a few), without the leading "# ". */
  lines: string[];
  /** Kernel-log findings attached to the probe, e.g. "warning at console line 812: WARNING: ...". */
  findings: string[];
  /** A kernel-log predicate's pattern: the row shows the matching kernel-log lines of the probe. */
  kmsg?: string;
  /**
   * Not referenced by the observable: the same probe/case of another of the
   * claim's variants, shown side by side for comparison. Never decides anything.
   */
  context?: true;
}

export interface ClaimEvaluation {
  id: string;
  verdict: ClaimVerdict;
  /** Set when the claim has `expect` and was decided: true when the verdict differs from it. */
  unexpected?: boolean;
  reason: string;
  evidence: EvidenceRow[];
}

export interface EvaluateOptions {
  /** Probes known to be flaky, as flakyKey(): "variant/abi/probe". */
  flaky?: ReadonlySet<string>;
}

export const flakyKey = (r: ProbeRef): string => `${r.variant}/${r.abi}/${r.probe}`;

const MAX_LINES = 3;
const probeLabel = (r: ProbeRef) => `${r.variant} ${r.probe}:${r.abi}`;
const variantOutcome = (results: ClaimResults, variant: string): VariantOutcome | undefined =>
  Object.hasOwn(results, variant) ? results[variant] : undefined;
const probesOf = (results: ClaimResults, r: ProbeRef): ProbeResult[] =>
  variantOutcome(results, r.variant)?.result?.probes.filter((p) => p.probe === r.probe && p.abi === r.abi) ?? [];

/** "errno=NN" values in a case's diagnostics, in order. */
function errnosOf(c: ProbeCase): number[] {
  return c.diagnostics.flatMap((l) => [...l.matchAll(/\berrno=(\d+)/g)].map((m) => Number(m[1])));
}

/** What `same`/`differ` compare for a case: its status plus the errno values of its diagnostics. */
export function caseKey(c: ProbeCase): string {
  const e = errnosOf(c);
  return e.length > 0 ? `${c.status} errno=${e.join(',')}` : c.status;
}

function formatFinding(f: Finding): string {
  const text = f.text.length > 120 ? `${f.text.slice(0, 117)}...` : f.text;
  return f.line > 0 ? `${f.kind} at console line ${f.line}: ${text}` : `${f.kind}: ${text}`;
}

// --- checks before evaluation -------------------------------------------------

interface Problem {
  kind: 'infra' | 'inconclusive';
  text: string;
}

/** Statuses a leaf explicitly asks for, which then do not make it inconclusive. */
interface Asked {
  probe?: ProbeStatus;
  case?: CaseStatus;
  /** A kernel-log predicate: a WARN is what it looks at, not a reason to doubt the run. */
  kmsg?: true;
}

/** The kernel-log lines of a probe run: what the init echoed after it, and its findings' text. */
export function kmsgLines(p: ProbeResult): string[] {
  return [...p.kmsg, ...p.findings.map((f) => f.text).filter((t) => !p.kmsg.includes(t))];
}

function checkRef(results: ClaimResults, r: Ref, asked: Asked, flaky: ReadonlySet<string>): Problem | undefined {
  const o = variantOutcome(results, r.variant);
  if (!o) return { kind: 'inconclusive', text: `variant ${r.variant} was not run` };
  if (o.status === 'infra') return { kind: 'infra', text: `variant ${r.variant}: ${o.reason ?? 'infrastructure failure'}` };
  const failed = o.failedAbis?.[r.abi];
  if (failed !== undefined) return { kind: 'infra', text: `variant ${r.variant}, ${r.abi}: ${failed}` };
  if (!o.result) return { kind: 'inconclusive', text: `variant ${r.variant} has no console result` };
  const runs = probesOf(results, r);
  const label = probeLabel(r);
  const p = runs[0];
  if (!p) return { kind: 'inconclusive', text: `${label} is missing from the results (not run, or its output was lost)` };
  if (new Set(runs.map(fingerprint)).size > 1) {
    return { kind: 'inconclusive', text: `${label} ran ${runs.length} times with different results (${[...new Set(runs.map(fingerprint))].join(' / ')})` };
  }
  if (flaky.has(flakyKey(r))) return { kind: 'inconclusive', text: `${label} is marked flaky` };
  const crashes = runs.flatMap((x) => x.findings).filter((f) => CRASH_KINDS.has(f.kind) && !(asked.kmsg && f.kind === 'warning'));
  if (crashes.length > 0 && asked.probe !== 'CRASHED') {
    return { kind: 'inconclusive', text: `${label} has kernel findings: ${crashes.map(formatFinding).slice(0, 2).join('; ')}` };
  }
  if (p.status === 'SKIP' || p.status === 'TIMEOUT' || p.status === 'CRASHED' || p.status === 'INFRA') {
    // CRASHED by warnings alone (no other crash finding, checked above) still ran to its end.
    const wanted = asked.probe === p.status || (p.status === 'SKIP' && asked.case === 'SKIP') || (asked.kmsg === true && p.status === 'CRASHED');
    if (!wanted) return { kind: 'inconclusive', text: `${label} is ${p.status}${p.reason ? ` (${p.reason})` : ''}` };
  }
  if (r.case !== undefined) {
    const c = p.cases.find((x) => x.name === r.case);
    if (!c) {
      const have = p.cases.map((x) => x.name).join(', ') || 'none';
      return { kind: 'inconclusive', text: `${label} has no case ${r.case} (cases: ${have})` };
    }
    if (c.status === 'SKIP' && asked.case !== 'SKIP') {
      return { kind: 'inconclusive', text: `${refLabel(r)} is SKIP${c.reason ? ` (${c.reason})` : ''}` };
    }
  }
  return undefined;
}

/** Probe-level same/differ: a case skipped on one side only cannot be compared. */
function checkSkipAsymmetry(results: ClaimResults, a: Ref, b: Ref): Problem | undefined {
  const pa = probesOf(results, a)[0];
  const pb = probesOf(results, b)[0];
  if (!pa || !pb) return undefined;
  for (const c of pa.cases) {
    const d = pb.cases.find((x) => x.name === c.name);
    if (d && (c.status === 'SKIP') !== (d.status === 'SKIP')) {
      return {
        kind: 'inconclusive',
        text: `case ${c.name} is ${c.status} in ${probeLabel(a)} but ${d.status} in ${probeLabel(b)}: a skip cannot be compared`,
      };
    }
  }
  return undefined;
}

function checkPatch(results: ClaimResults, r: PatchRef): Problem | undefined {
  const o = variantOutcome(results, r.variant);
  if (!o) return { kind: 'inconclusive', text: `variant ${r.variant} was not run` };
  if (o.status === 'infra') return { kind: 'infra', text: `variant ${r.variant}: ${o.reason ?? 'infrastructure failure'}` };
  if (!o.applied) return { kind: 'inconclusive', text: `variant ${r.variant} has no record of how its patches went in` };
  if (r.patch !== undefined && r.patch > o.applied.length) {
    return { kind: 'inconclusive', text: `variant ${r.variant} has ${o.applied.length} patch${o.applied.length === 1 ? '' : 'es'}, no patch ${r.patch}` };
  }
  return undefined;
}

function collectProblems(p: Predicate, results: ClaimResults, flaky: ReadonlySet<string>, out: Problem[]): void {
  const add = (x: Problem | undefined) => {
    if (x && !out.some((y) => y.text === x.text)) out.push(x);
  };
  if ('source' in p) {
    const fact = variantOutcome(results, p.source.variant)?.sources?.[sourceKey(p)];
    const problem = checkPatch(results, p.source);
    if (problem) add(problem);
    else if (!fact) add({ kind: 'inconclusive', text: `the tree of ${p.source.variant} was not read for /${p.pattern}/ in ${p.path}` });
    else if ('error' in fact) add({ kind: 'inconclusive', text: `${p.source.variant}: ${fact.error}` });
  } else if ('touches' in p) add(checkPatch(results, p.touches));
  else if ('applies' in p) add(checkPatch(results, p.applies));
  else if ('samePatch' in p) p.samePatch.forEach((r) => add(checkPatch(results, r)));
  else if ('case' in p) add(checkRef(results, p.case, { case: p.status }, flaky));
  else if ('probe' in p) add(checkRef(results, p.probe, { probe: p.status }, flaky));
  else if ('kmsg' in p) add(checkRef(results, p.kmsg, { kmsg: true }, flaky));
  else if ('same' in p || 'differ' in p) {
    const [a, b] = 'same' in p ? p.same : p.differ;
    const pa = checkRef(results, a, {}, flaky);
    const pb = checkRef(results, b, {}, flaky);
    add(pa);
    add(pb);
    if (!pa && !pb && a.case === undefined) add(checkSkipAsymmetry(results, a, b));
    if (!pa && !pb && p.value !== undefined) {
      for (const r of [a, b]) {
        if (capturedValue(caseFor(results, { ...r, case: r.case! }), p.value) === undefined) {
          add({ kind: 'inconclusive', text: `no diagnostic of ${refLabel(r)} matches /${p.value}/: no value to compare` });
        }
      }
    }
  } else if ('all' in p) for (const q of p.all) collectProblems(q, results, flaky, out);
  else if ('any' in p) for (const q of p.any) collectProblems(q, results, flaky, out);
  else collectProblems(p.not, results, flaky, out);
}

// --- evaluation (every ref known to be present and clean) --------------------

interface Truth {
  value: boolean;
  why: string;
}

function probeFor(results: ClaimResults, r: ProbeRef): ProbeResult {
  const p = probesOf(results, r)[0];
  if (!p) throw new Error(`internal: ${probeLabel(r)} vanished after the checks`);
  return p;
}

function caseFor(results: ClaimResults, r: Ref & { case: string }): ProbeCase {
  const c = probeFor(results, r).cases.find((x) => x.name === r.case);
  if (!c) throw new Error(`internal: ${refLabel(r)} vanished after the checks`);
  return c;
}

const diagnosticText = (c: ProbeCase): string[] => [...c.diagnostics, ...(c.reason ? [c.reason] : [])];

/** Which cases of two probes differ, in words. */
function probeDifference(a: ProbeResult, b: ProbeResult): string {
  const parts: string[] = [];
  if (a.status !== b.status) parts.push(`probe ${a.status} vs ${b.status}`);
  for (const c of a.cases) {
    const d = b.cases.find((x) => x.name === c.name);
    if (!d) parts.push(`${c.name} only in the first`);
    else if (d.status !== c.status) parts.push(`${c.name} ${c.status} vs ${d.status}`);
  }
  for (const d of b.cases) if (!a.cases.some((c) => c.name === d.name)) parts.push(`${d.name} only in the second`);
  return parts.join(', ');
}

/** The first capture group of the first diagnostic line `pattern` matches. */
export function capturedValue(c: ProbeCase, pattern: string): string | undefined {
  const re = new RegExp(pattern, 'i');
  for (const l of diagnosticText(c)) {
    const m = re.exec(l);
    if (m) return m[1] ?? m[0];
  }
  return undefined;
}

function compare(results: ClaimResults, a: Ref, b: Ref, value?: string): Truth {
  if (value !== undefined) {
    const va = capturedValue(caseFor(results, { ...a, case: a.case! }), value);
    const vb = capturedValue(caseFor(results, { ...b, case: b.case! }), value);
    return va === vb
      ? { value: true, why: `/${value}/ gives ${va} for both ${refLabel(a)} and ${refLabel(b)}` }
      : { value: false, why: `/${value}/ gives ${va} for ${refLabel(a)} but ${vb} for ${refLabel(b)}` };
  }
  if (a.case !== undefined && b.case !== undefined) {
    const ka = caseKey(caseFor(results, { ...a, case: a.case }));
    const kb = caseKey(caseFor(results, { ...b, case: b.case }));
    return ka === kb
      ? { value: true, why: `${refLabel(a)} and ${refLabel(b)} are the same (${ka})` }
      : { value: false, why: `${refLabel(a)} is ${ka} but ${refLabel(b)} is ${kb}` };
  }
  const pa = probeFor(results, a);
  const pb = probeFor(results, b);
  return fingerprint(pa) === fingerprint(pb)
    ? { value: true, why: `${probeLabel(a)} and ${probeLabel(b)} are the same (${pa.status}, ${pa.cases.length} cases alike)` }
    : { value: false, why: `${probeLabel(a)} and ${probeLabel(b)} differ: ${probeDifference(pa, pb)}` };
}

function patchesOf(results: ClaimResults, r: PatchRef): PatchApplyReport[] {
  const all = variantOutcome(results, r.variant)?.applied ?? [];
  return r.patch !== undefined ? all.slice(r.patch - 1, r.patch) : all;
}

const moved = (a: PatchApplyReport) => a.hunks.length > 0;

function seriesTruth(p: SeriesPredicate, results: ClaimResults): Truth {
  if ('source' in p) {
    const fact = variantOutcome(results, p.source.variant)!.sources![sourceKey(p)] as { hits: string[] };
    const v = p.source.variant;
    return fact.hits.length > 0
      ? { value: p.present, why: `${v} has "${fact.hits[0]}"` }
      : { value: !p.present, why: `no line of ${p.path} in ${v} matches /${p.pattern}/` };
  }
  if ('touches' in p) {
    const re = new RegExp(p.path);
    const files = patchesOf(results, p.touches).flatMap((a) => a.files.map((f) => f.path));
    const hit = files.find((f) => re.test(f));
    return hit !== undefined
      ? { value: true, why: `${patchLabel(p.touches)} touches ${hit}` }
      : { value: false, why: `no file of ${patchLabel(p.touches)} matches /${p.path}/ (it touches ${[...new Set(files)].join(', ') || 'nothing'})` };
  }
  if ('applies' in p) {
    const a = patchesOf(results, p.applies)[0]!;
    const how = `${a.method}${moved(a) ? `, ${a.hunks.length} hunk(s) moved or fuzzed` : ', every hunk in place'}`;
    const ok = (p.method === undefined || a.method === p.method) && (p.exact === undefined || p.exact === !moved(a));
    return { value: ok, why: `${patchLabel(p.applies)} went in by ${how}` };
  }
  const [a, b] = p.samePatch.map((r) => patchesOf(results, r)[0]!);
  return a!.patchIdPosted === b!.patchIdPosted
    ? { value: true, why: `${patchLabel(p.samePatch[0])} and ${patchLabel(p.samePatch[1])} have the same patch-id (${a!.patchIdPosted.slice(0, 12)})` }
    : { value: false, why: `${patchLabel(p.samePatch[0])} has patch-id ${a!.patchIdPosted.slice(0, 12)}, ${patchLabel(p.samePatch[1])} ${b!.patchIdPosted.slice(0, 12)}` };
}

function truth(p: Predicate, results: ClaimResults): Truth {
  if ('touches' in p || 'applies' in p || 'samePatch' in p || 'source' in p) return seriesTruth(p, results);
  if ('case' in p) {
    const c = caseFor(results, p.case);
    const label = refLabel(p.case);
    if (c.status !== p.status) return { value: false, why: `${label} is ${c.status}, not ${p.status}` };
    if (p.diagnostic === undefined) return { value: true, why: `${label} is ${p.status}` };
    const re = new RegExp(p.diagnostic, 'i');
    const hit = diagnosticText(c).find((l) => re.test(l));
    return hit !== undefined
      ? { value: true, why: `${label} is ${p.status}: "${hit}"` }
      : { value: false, why: `${label} is ${p.status} but no diagnostic matches /${p.diagnostic}/` };
  }
  if ('probe' in p) {
    const s = probeFor(results, p.probe).status;
    return s === p.status
      ? { value: true, why: `${probeLabel(p.probe)} is ${s}` }
      : { value: false, why: `${probeLabel(p.probe)} is ${s}, not ${p.status}` };
  }
  if ('kmsg' in p) {
    const re = new RegExp(p.pattern, 'i');
    const hit = kmsgLines(probeFor(results, p.kmsg)).find((l) => re.test(l));
    const label = probeLabel(p.kmsg);
    if (hit !== undefined) return { value: p.present, why: `the kernel log of ${label} has "${hit}"` };
    return { value: !p.present, why: `no kernel-log line of ${label} matches /${p.pattern}/` };
  }
  if ('same' in p) return compare(results, p.same[0], p.same[1], p.value);
  if ('differ' in p) {
    const t = compare(results, p.differ[0], p.differ[1], p.value);
    return { value: !t.value, why: t.why };
  }
  if ('all' in p) {
    const ts = p.all.map((q) => truth(q, results));
    const bad = ts.find((t) => !t.value);
    return bad ? { value: false, why: bad.why } : { value: true, why: ts.map((t) => t.why).join('; ') };
  }
  if ('any' in p) {
    const ts = p.any.map((q) => truth(q, results));
    const good = ts.find((t) => t.value);
    return good ? { value: true, why: good.why } : { value: false, why: `none holds: ${ts.map((t) => t.why).join('; ')}` };
  }
  const t = truth(p.not, results);
  return { value: !t.value, why: t.why };
}

// --- evidence -------------------------------------------------------------------

/** Regexes of the `diagnostic` fields that look at each ref (by refLabel). */
function regexesByRef(p: Predicate, out = new Map<string, RegExp[]>()): Map<string, RegExp[]> {
  if ('case' in p) {
    if (p.diagnostic !== undefined) {
      const k = refLabel(p.case);
      out.set(k, [...(out.get(k) ?? []), new RegExp(p.diagnostic, 'i')]);
    }
  } else if (('same' in p || 'differ' in p) && p.value !== undefined) {
    for (const r of 'same' in p ? p.same : p.differ) {
      const k = refLabel(r);
      out.set(k, [...(out.get(k) ?? []), new RegExp(p.value, 'i')]);
    }
  } else if ('all' in p) p.all.forEach((q) => regexesByRef(q, out));
  else if ('any' in p) p.any.forEach((q) => regexesByRef(q, out));
  else if ('not' in p) regexesByRef(p.not, out);
  return out;
}

/** A value the probe measured next to the one it wanted: "record_size=24 (expected 16)". */
export const MEASURED_VS_EXPECTED = /(?<![\w.])[A-Za-z_][\w.]*=\S+ \(expected [^)]+\)/;

/**
 * The few lines that decide a case: those the claim's regex matches, else a measured value
 * with its expected one, else errno lines, else a byte comparison's first difference, else
 * ret= lines, else the last ones.
 */
export function claimLines(diagnostics: readonly string[], regexes: readonly RegExp[] = []): string[] {
  return decidingLines(diagnostics, [regexes, [MEASURED_VS_EXPECTED], [/\berrno=\d/], [/first difference at/], [/\bret=-?\d/]], { max: MAX_LINES, fallback: 'last' });
}

/** A ref the evidence shows: a probe or case, a probe's kernel log searched with a pattern, or a patch. */
type Shown = Ref & { kmsg?: string; patch?: number; source?: { path: string; pattern: string } };
const shownKey = (r: Shown) =>
  r.source ? `${r.variant} source ${sourceKey(r.source)}` : r.patch !== undefined ? patchLabel(r) : `${refLabel(r)}${r.kmsg !== undefined ? ` kmsg /${r.kmsg}/` : ''}`;

/** "am, every hunk in place; fs/io_uring.c +5 -2, include/linux/sched.h +1; patch-id 1234abcd5678". */
export function patchFacts(a: PatchApplyReport): string {
  const files = a.files.map((f) => `${f.path} +${f.insertions} -${f.deletions}`).join(', ');
  return `"${a.title}": ${a.method}${moved(a) ? `, ${a.hunks.length} hunk(s) moved or fuzzed` : ', every hunk in place'}; ${files || 'no files'}; patch-id ${a.patchIdPosted.slice(0, 12)}`;
}

function patchRow(results: ClaimResults, r: PatchRef & { patch: number }): EvidenceRow {
  const row: EvidenceRow = { variant: r.variant, abi: '', probe: '', patch: r.patch, status: 'MISSING', lines: [], findings: [] };
  const o = variantOutcome(results, r.variant);
  if (!o) return { ...row, reason: 'variant not run' };
  if (o.status === 'infra') return { ...row, status: 'INFRA', reason: o.reason ?? 'infrastructure failure' };
  const a = o.applied?.[r.patch - 1];
  if (!a) return { ...row, reason: o.applied ? `the variant has ${o.applied.length} patches` : 'no apply record' };
  return { ...row, status: 'APPLIED', lines: [patchFacts(a)] };
}

function sourceRow(results: ClaimResults, variant: string, src: { path: string; pattern: string }): EvidenceRow {
  const row: EvidenceRow = { variant, abi: '', probe: '', source: `${src.path} /${src.pattern}/`, status: 'MISSING', lines: [], findings: [] };
  const o = variantOutcome(results, variant);
  if (!o) return { ...row, reason: 'variant not run' };
  if (o.status === 'infra') return { ...row, status: 'INFRA', reason: o.reason ?? 'infrastructure failure' };
  const fact = o.sources?.[sourceKey(src)];
  if (!fact) return { ...row, reason: 'the tree was not read' };
  if ('error' in fact) return { ...row, reason: fact.error };
  return { ...row, status: 'APPLIED', lines: fact.hits.length > 0 ? fact.hits.slice(0, MAX_LINES) : [`no line of ${src.path} matches /${src.pattern}/`] };
}

function evidenceRow(results: ClaimResults, r: Shown, regexes: readonly RegExp[]): EvidenceRow {
  if (r.source) return sourceRow(results, r.variant, r.source);
  if (r.patch !== undefined) return patchRow(results, { variant: r.variant, patch: r.patch });
  const row: EvidenceRow = {
    variant: r.variant, abi: r.abi, probe: r.probe, ...(r.case !== undefined ? { case: r.case } : {}), ...(r.kmsg !== undefined ? { kmsg: r.kmsg } : {}),
    status: 'MISSING', lines: [], findings: [],
  };
  const o = variantOutcome(results, r.variant);
  if (!o) return { ...row, reason: 'variant not run' };
  if (o.status === 'infra') return { ...row, status: 'INFRA', reason: o.reason ?? 'infrastructure failure' };
  const failed = o.failedAbis?.[r.abi];
  if (failed !== undefined) return { ...row, status: 'INFRA', reason: failed };
  const p = probesOf(results, r)[0];
  if (!p) return { ...row, reason: 'probe not in the results' };
  row.findings = p.findings.map(formatFinding);
  if (r.kmsg !== undefined) {
    row.status = p.status;
    const re = new RegExp(r.kmsg, 'i');
    const hits = kmsgLines(p).filter((l) => re.test(l));
    row.lines = hits.length > 0 ? hits.slice(0, MAX_LINES) : [`no kernel-log line matches /${r.kmsg}/`];
    return row;
  }
  if (r.case === undefined) {
    row.status = p.status;
    if (p.reason) row.reason = p.reason;
    const notPass = p.cases.filter((c) => c.status !== 'PASS');
    row.lines =
      p.cases.length === 0
        ? claimLines(p.diagnostics)
        : notPass.length === 0
          ? [`all ${p.cases.length} cases PASS`]
          : // One line per case that did not pass, its deciding line on it: reports show the first line.
            notPass.map((c) => {
              const l = claimLines(c.diagnostics)[0];
              return `${c.name}: ${c.status}${c.reason ? ` (${c.reason})` : ''}${l !== undefined ? ` · ${l}` : ''}`;
            }).slice(0, MAX_LINES);
    return row;
  }
  const c = p.cases.find((x) => x.name === r.case);
  if (!c) return { ...row, reason: `no case ${r.case} (probe ${p.status}${p.reason ? `: ${p.reason}` : ''})` };
  row.status = c.status;
  if (c.reason) row.reason = c.reason;
  row.lines = claimLines(c.diagnostics, regexes);
  return row;
}

// --- entry points -----------------------------------------------------------------

export function evaluateClaim(claim: Claim, results: ClaimResults, opts: EvaluateOptions = {}): ClaimEvaluation {
  const flaky = opts.flaky ?? new Set<string>();
  const refs: Shown[] = [];
  const seen = new Set<string>();
  const collect = (p: Predicate): void => {
    const add = (r: Shown) => {
      const k = shownKey(r);
      if (!seen.has(k)) {
        seen.add(k);
        refs.push(r);
      }
    };
    const addPatch = (r: PatchRef) => {
      // A ref to every patch of a variant shows each of them.
      const n = r.patch !== undefined ? [r.patch] : (variantOutcome(results, r.variant)?.applied ?? []).map((_, i) => i + 1);
      for (const patch of n) add({ variant: r.variant, abi: '', probe: '', patch });
    };
    if ('source' in p) add({ variant: p.source.variant, abi: '', probe: '', source: { path: p.path, pattern: p.pattern } });
    else if ('touches' in p) addPatch(p.touches);
    else if ('applies' in p) addPatch(p.applies);
    else if ('samePatch' in p) p.samePatch.forEach(addPatch);
    else if ('case' in p) add(p.case);
    else if ('probe' in p) add(p.probe);
    else if ('kmsg' in p) add({ ...p.kmsg, kmsg: p.pattern });
    else if ('same' in p) p.same.forEach(add);
    else if ('differ' in p) p.differ.forEach(add);
    else if ('all' in p) p.all.forEach(collect);
    else if ('any' in p) p.any.forEach(collect);
    else collect(p.not);
  };
  collect(claim.observable);
  const regexes = regexesByRef(claim.observable);
  const evidence = refs.map((r) => evidenceRow(results, r, regexes.get(refLabel(r)) ?? []));
  // The same rows from the claim's other variants, where they ran, for the side-by-side view.
  for (const r of refs) {
    if (r.patch !== undefined || r.source) continue; // patch N of another revision is another patch; a source row names its variant
    for (const variant of claim.variants) {
      const other = { ...r, variant };
      if (seen.has(shownKey(other)) || variantOutcome(results, variant)?.status !== 'ok' || probesOf(results, other).length === 0) continue;
      seen.add(shownKey(other));
      evidence.push({ ...evidenceRow(results, other, regexes.get(refLabel(r)) ?? []), context: true });
    }
  }

  const problems: Problem[] = [];
  collectProblems(claim.observable, results, flaky, problems);
  const infra = problems.filter((p) => p.kind === 'infra');
  let verdict: ClaimVerdict;
  let reason: string;
  if (infra.length > 0) {
    verdict = 'infra-error';
    reason = infra.map((p) => p.text).join('; ');
  } else if (problems.length > 0) {
    verdict = 'inconclusive';
    reason = problems.map((p) => p.text).join('; ');
  } else {
    const t = truth(claim.observable, results);
    verdict = t.value ? 'confirmed' : 'refuted';
    reason = t.why;
  }
  const decided = verdict === 'confirmed' || verdict === 'refuted';
  return {
    id: claim.id,
    verdict,
    ...(claim.expect !== undefined && decided ? { unexpected: verdict !== claim.expect } : {}),
    reason,
    evidence,
  };
}

export function evaluateClaims(claims: readonly Claim[], results: ClaimResults, opts: EvaluateOptions = {}): ClaimEvaluation[] {
  return claims.map((c) => evaluateClaim(c, results, opts));
}
