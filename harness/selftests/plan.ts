// kselftest as kseries runs it: the tests a `make install` listed
// (kselftest-list.txt, "collection:test" per line), each run the way
// kselftest's runner.sh runs it (in its collection's directory, with the
// collection's "settings" timeout, exit 4 = skip), but as its own plan entry:
// the guest init then holds each timeout, nests each test's own KTAP, and
// puts each kernel-log line under the test during which it appeared. Pure.
import type { PlanEntry } from '../image/init-plan.ts';

export interface SelftestCase {
  collection: string;
  test: string;
}

/** Where `kseries selftests` installs the tests in the guest. */
export const KSELFTEST_GUEST_DIR = '/kselftest';

/** runner.sh's kselftest_default_timeout. */
export const KSELFTEST_DEFAULT_TIMEOUT_SEC = 45;

/** kselftest-list.txt: "x86:sigreturn_64" lines; blank lines ignored. */
export function parseTestList(text: string): SelftestCase[] {
  const out: SelftestCase[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const i = line.indexOf(':');
    if (i <= 0 || i === line.length - 1) continue;
    out.push({ collection: line.slice(0, i), test: line.slice(i + 1) });
  }
  return out;
}

/**
 * A collection's "settings" file: "field=value" lines, '#' comments (runner.sh
 * reads them the same way). Only timeout is used; 0 means "no limit" to
 * kselftest, which the caller replaces by its own ceiling.
 */
export function parseSettings(text: string): { timeoutSec?: number } {
  let timeoutSec: number | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^timeout=(\d+)$/.exec(line);
    if (m) timeoutSec = Number(m[1]);
  }
  return timeoutSec === undefined ? {} : { timeoutSec };
}

export interface SelftestPlanOptions {
  /** Collection → its settings timeout (absent: runner.sh's default, 45 s). */
  timeouts: ReadonlyMap<string, number>;
  /** The per-test ceiling for "timeout=0" (no limit), and the cap on any timeout. */
  maxTimeoutSec: number;
}

export function selftestId(c: SelftestCase): string {
  return `selftests:${c.collection}:${c.test}`;
}

/** The effective timeout of one collection's tests. */
export function testTimeout(collection: string, o: SelftestPlanOptions): number {
  const t = o.timeouts.get(collection) ?? KSELFTEST_DEFAULT_TIMEOUT_SEC;
  return t === 0 ? o.maxTimeoutSec : Math.min(t, o.maxTimeoutSec);
}

export function selftestPlan(cases: readonly SelftestCase[], o: SelftestPlanOptions): PlanEntry[] {
  return cases.map((c) => {
    const cwd = `${KSELFTEST_GUEST_DIR}/${c.collection}`;
    return { id: selftestId(c), timeoutSec: testTimeout(c.collection, o), uid: 0, cwd, argv: [`${cwd}/${c.test}`] };
  });
}

/** run_kselftest.sh -t COLLECTION:TEST, with * and ? as globs: "x86:*", "timers:posix_timers". */
export function selectCases(cases: readonly SelftestCase[], patterns: readonly string[]): { cases: SelftestCase[]; unmatched: string[] } {
  if (patterns.length === 0) return { cases: [...cases], unmatched: [] };
  const res = patterns.map((p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`));
  const name = (c: SelftestCase) => `${c.collection}:${c.test}`;
  return {
    cases: cases.filter((c) => res.some((r) => r.test(name(c)))),
    unmatched: patterns.filter((_, i) => !cases.some((c) => res[i]!.test(name(c)))),
  };
}
