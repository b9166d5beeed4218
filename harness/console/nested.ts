// What lies below a test point, at any depth, that its own line may not
// admit:
//  - a failure: a failing case under an "ok" probe, a "not ok" in a nested
//    subtest, or a kselftest runner's "# not ok" comment lines under an "ok"
//    entry;
//  - plan violations: more or fewer results than a subtest planned, a
//    duplicate or out-of-sequence test number (the top level's count is
//    checked in ktap.ts; fewer than planned there is truncation).
// tap-parser gives each level its own Parser; one tracker per level collects
// these until that level's next result, which they belong to (as comments
// before a result do), and hands a finished subtest's up to its parent.
//
// Listeners run in registration order: create the tracker before adding a
// level's own 'assert' listener, which then reads `last`.

import type { Parser, Result } from 'tap-parser';
import { isFailure, nestedPointOf, outcomeOf, type Outcome } from './directives.ts';

export interface Below {
  /** Path to the first failure below, e.g. "suite > not ok deep_case". */
  failure?: string;
  /** Plan violations, in order. */
  plan: string[];
}

function commentText(raw: string): string {
  return raw.replace(/^\s*#\s?/, '').trimEnd();
}

const pointText = (o: Outcome) => `not ok ${o.name}${o.reason ? ` # ${o.reason}` : ''}`.trim();

export class NestedTracker {
  /** Collected below the next result of this level. */
  #pending: Below = { plan: [] };
  /** First failure anywhere in this level (its results included). */
  #first: string | undefined;
  /** Every plan violation in this level and below. */
  #plan: string[] = [];
  #plannedCount: number | undefined;
  #expected = 1;
  #count = 0;
  #seen = new Set<number>();
  /** What was below the result this level read last, and its own plan violations. */
  last: Below = { plan: [] };

  static #byParser = new WeakMap<Parser, NestedTracker>();

  /** The tracker of a level (a child Parser gets one as soon as it starts). */
  static of(parser: Parser): NestedTracker | undefined {
    return NestedTracker.#byParser.get(parser);
  }

  constructor(parser: Parser) {
    NestedTracker.#byParser.set(parser, this);
    parser.on('comment', (raw: string) => {
      const o = nestedPointOf(commentText(raw));
      if (o && isFailure(o)) this.#pending.failure ??= pointText(o);
    });
    parser.on('plan', (p: { start: number; end: number }) => {
      this.#plannedCount = Math.max(0, p.end - p.start + 1);
      if (this.#count === 0) this.#expected = p.start;
    });
    parser.on('child', (child: Parser) => {
      const t = new NestedTracker(child);
      child.on('complete', () => {
        // Cut short (console ended, bail-out): that is truncation, not a plan violation.
        if (child.closingTestPoint) t.#checkCount();
        // Its path is relative to the result that closes it (named like the subtest).
        this.#pending.failure ??= t.#first ?? t.#pending.failure;
        // Under the top level the closing result is the entry itself: no prefix.
        const where = child.name && parser.parent ? `${child.name}: ` : '';
        for (const v of t.#plan.concat(t.#pending.plan)) this.#pending.plan.push(`${where}${v}`);
      });
    });
    parser.on('assert', (r: Result) => {
      this.last = this.#result(r, outcomeOf(r));
    });
  }

  #result(r: Result, o: Outcome): Below {
    const below = this.#pending;
    this.#pending = { plan: [] };
    this.#count++;
    const own: string[] = [];
    const id = r.id;
    if (id > 0) {
      if (this.#seen.has(id)) own.push(`test number ${id} appears more than once`);
      else if (id !== this.#expected) own.push(`test number ${id} out of sequence (expected ${this.#expected})`);
      this.#seen.add(id);
      this.#expected = Math.max(this.#expected, id + 1);
    } else {
      this.#expected++;
    }
    if (isFailure(o)) this.#first ??= pointText(o);
    else if (below.failure !== undefined && (o.kind === 'pass' || o.kind === 'skip')) this.#first ??= `${o.name} > ${below.failure}`;
    const plan = own.concat(below.plan);
    for (const v of plan) this.#plan.push(v);
    return { ...(below.failure !== undefined ? { failure: below.failure } : {}), plan };
  }

  /** A finished subtest's count against its plan (the top level's is checked in ktap.ts, which knows the probes). */
  #checkCount(): void {
    const n = this.#plannedCount;
    if (n !== undefined && this.#count !== n) this.#plan.push(`planned ${n} result(s), got ${this.#count}`);
  }
}
