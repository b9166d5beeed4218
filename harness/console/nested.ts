// Failures below a test point, at any depth: a failing case under an "ok"
// probe, a "not ok" in a nested subtest, or a kselftest runner's "# not ok"
// comment lines under an "ok" entry. tap-parser gives each level its own
// Parser; one tracker per level collects evidence until that level's next
// result, which it belongs to (as comments before a result do).
//
// Listeners run in registration order: create the tracker before adding a
// level's own 'assert' listener, which then reads `lastBelow`.

import type { Parser, Result } from 'tap-parser';
import { isFailure, nestedPointOf, outcomeOf, type Outcome } from './directives.ts';

function commentText(raw: string): string {
  return raw.replace(/^\s*#\s?/, '').trimEnd();
}

export class NestedFailures {
  /** First failure seen below the next result of this level. */
  #pending: string | undefined;
  /** First failure anywhere in this level (its results included). */
  #first: string | undefined;
  /** What was below the result this level read last. */
  lastBelow: string | undefined;

  static #byParser = new WeakMap<Parser, NestedFailures>();

  /** The tracker of a level (a child Parser gets one as soon as it starts). */
  static of(parser: Parser): NestedFailures | undefined {
    return NestedFailures.#byParser.get(parser);
  }

  constructor(parser: Parser) {
    NestedFailures.#byParser.set(parser, this);
    parser.on('comment', (raw: string) => {
      const o = nestedPointOf(commentText(raw));
      if (o && isFailure(o)) this.#pending ??= `not ok ${o.name}${o.reason ? ` # ${o.reason}` : ''}`.trim();
    });
    parser.on('child', (child: Parser) => {
      const t = new NestedFailures(child);
      // Its path is relative to the result that closes it (named like the subtest).
      child.on('complete', () => {
        this.#pending ??= t.anywhere();
      });
    });
    parser.on('assert', (r: Result) => {
      this.lastBelow = this.result(outcomeOf(r));
    });
  }

  /** One result of this level: returns the failure evidence below it, if any. */
  private result(o: Outcome): string | undefined {
    const below = this.#pending;
    this.#pending = undefined;
    if (isFailure(o)) this.#first ??= `not ok ${o.name}${o.reason ? ` # ${o.reason}` : ''}`;
    else if (below !== undefined && (o.kind === 'pass' || o.kind === 'skip')) this.#first ??= `${o.name} > ${below}`;
    return below;
  }

  /** At the level's end: its first failure, trailing comments included. */
  anywhere(): string | undefined {
    return this.#first ?? this.#pending;
  }
}
