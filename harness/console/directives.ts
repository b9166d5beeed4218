// TAP test-point directives → statuses, for a probe (top-level entry) and a
// case (a test point inside it). Pure; shared by the KTAP reader and the
// nested-failure tracker.

import type { ProbeCase, Status } from '../model/results.ts';

export interface Outcome {
  name: string;
  ok: boolean;
  kind: 'pass' | 'fail' | 'skip' | 'todo' | 'timeout' | 'xfail' | 'error';
  /** Directive text after its keyword ("after 30 s"), or an unknown directive as printed ("exit=1"). */
  reason?: string;
}

/** What tap-parser gives for a test point (its Result, or a nested line read here). */
export interface PointFields {
  ok: boolean;
  name: string;
  skip: string | boolean;
  todo: string | boolean;
}

// A directive starts at a "#" at the start of the description or after a
// blank: "ok 3 # XFAIL reason" (kselftest's ksft_test_result_xfail prints no
// name) as well as "ok 3 name # XFAIL reason".
const DIRECTIVE = /^(.*?)(?:^|\s+)#\s*(.*)$/;

// tap-parser only knows SKIP and TODO (and time=); any other directive is
// left glued to the name, e.g. "exec:repro # TIMEOUT after 30 s".
export function outcomeOf(r: PointFields): Outcome {
  const text = (v: string | boolean): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const ok = r.ok;
  if (r.skip !== false) return { name: r.name, ok, kind: 'skip', reason: text(r.skip) };
  if (r.todo !== false) return { name: r.name, ok, kind: 'todo', reason: text(r.todo) };
  const m = DIRECTIVE.exec(r.name);
  if (!m) return { name: r.name, ok, kind: ok ? 'pass' : 'fail' };
  const name = m[1]!;
  const directive = m[2]!.trim();
  const d = /^(TIMEOUT|XFAIL|ERROR)\b[\s:]*(.*)$/i.exec(directive);
  const keyword = d?.[1]?.toUpperCase();
  const rest = d?.[2] || undefined;
  if (keyword === 'TIMEOUT' && !ok) return { name, ok, kind: 'timeout', reason: rest };
  if (keyword === 'ERROR' && !ok) return { name, ok, kind: 'error', reason: rest };
  if (keyword === 'XFAIL' && ok) return { name, ok, kind: 'xfail', reason: rest };
  return { name, ok, kind: ok ? 'pass' : 'fail', reason: directive || undefined };
}

/** A failure of the point itself (not ok, and not excused by SKIP or TODO). */
export function isFailure(o: Outcome): boolean {
  return !o.ok && (o.kind === 'fail' || o.kind === 'timeout' || o.kind === 'error');
}

// kselftest's runner prints a test's own TAP as "# " comments (deeper levels
// as "# # "), so a nested result reaches us as comment text.
const NESTED_POINT = /^(?:#\s*)*(not ok|ok)(?:\s+\d+)?(?:\s+-)?(?:\s+(.*))?$/;
const NESTED_SKIP_TODO = /(?:^|\s)#\s*(SKIP|TODO)\b[\s:]*(.*)$/i;

/** Comment text that is itself a test point of nested TAP → its outcome. */
export function nestedPointOf(comment: string): Outcome | undefined {
  const m = NESTED_POINT.exec(comment);
  if (!m) return undefined;
  let name = m[2] ?? '';
  let skip: string | boolean = false;
  let todo: string | boolean = false;
  const d = NESTED_SKIP_TODO.exec(name);
  if (d) {
    name = name.slice(0, d.index);
    if (d[1]!.toUpperCase() === 'SKIP') skip = d[2] ?? '';
    else todo = d[2] ?? '';
  }
  return outcomeOf({ ok: m[1] === 'ok', name, skip, todo });
}

/** Probe status: ok → PASS; SKIP → SKIP; not ok # TIMEOUT → TIMEOUT; other not ok → FAIL. */
export function probeStatus(o: Outcome): { status: Status; reason?: string } {
  // Only a timeout differs: a probe has a TIMEOUT status of its own, a case does not.
  return o.kind === 'timeout' ? { status: 'TIMEOUT', reason: o.reason } : caseStatus(o);
}

/**
 * Case status (PASS/FAIL/SKIP only). A case TIMEOUT/ERROR is a FAIL with the
 * directive kept in the reason; XFAIL (an expected failure) is a PASS with
 * "XFAIL <reason>"; "ok # TODO" is a PASS, and "not ok # TODO" a known
 * failure that must not fail the run but was not verified either → SKIP.
 */
export function caseStatus(o: Outcome): { status: ProbeCase['status']; reason?: string } {
  const tagged = (tag: string) => (o.reason ? `${tag} ${o.reason}` : tag);
  switch (o.kind) {
    case 'pass':
      return { status: 'PASS', reason: o.reason };
    case 'fail':
      return { status: 'FAIL', reason: o.reason };
    case 'skip':
      return { status: 'SKIP', reason: o.reason };
    case 'timeout':
      return { status: 'FAIL', reason: tagged('TIMEOUT') };
    case 'error':
      return { status: 'FAIL', reason: tagged('ERROR') };
    case 'xfail':
      return { status: 'PASS', reason: tagged('XFAIL') };
    case 'todo':
      return { status: o.ok ? 'PASS' : 'SKIP', reason: tagged('TODO') };
  }
}

/**
 * A point whose own line passed (or skipped) but which has a failure below
 * it (a failing case, nested subtest, or kselftest "# not ok" line) fails:
 * kselftest's runner says "ok" for any test that exits 0. XFAIL and TODO
 * already say failures are expected there, so they stand.
 */
export function withNested<S extends { status: Status; reason?: string }>(o: Outcome, s: S, below: string | undefined): S {
  if (below === undefined || (o.kind !== 'pass' && o.kind !== 'skip')) return s;
  return { ...s, status: 'FAIL', reason: `nested failure: ${below}${s.reason ? `; ${s.reason}` : ''}` };
}
