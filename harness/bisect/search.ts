// Which patch of an N-patch series first changes what a probe observes?
// Prefix k is the base plus patches 1..k (k=0 the base, k=N the full series).
// Modelled on syzkaller's pkg/bisect: the search is pure and reaches the
// outside world only through the injected Tester, so every path (skips,
// flakes, infrastructure failures) is testable with a fake.
import { usageError } from '../util/errors.ts';


/** What one observation of one prefix saw. */
export type StepObservation =
  /** `value` is a canonical fingerprint of the probe result, e.g. "FAIL:setup_default=FAIL". */
  | { kind: 'value'; value: string; evidence?: unknown }
  /** The prefix could not be tested (build failed): like git bisect's exit 125. */
  | { kind: 'skip'; reason: string }
  /** The machine failed us (qemu missing, disk full): the search stops at once. */
  | { kind: 'infra'; reason: string };

export interface Tester {
  observe(k: number): Promise<StepObservation>;
}

export type StepDecision = 'good' | 'bad' | 'skip';

/** One tested prefix: everything it was observed to do, and what that decided. */
export interface StepRecord {
  k: number;
  observations: StepObservation[];
  /** good: same value as the base; bad: any other value; skip: untestable or a tie. */
  decided: StepDecision;
  /** The most frequent value among the observations that decided the step (absent for skip). */
  value?: string;
  /** Evidence of the first observation carrying `value`. */
  evidence?: unknown;
  /** The observations did not all agree (different values, or values and skips mixed). */
  flaky: boolean;
  /** How many times each value was observed. */
  counts: Record<string, number>;
  /** How many observations were skips. */
  skips: number;
  /** Share of the observations that agree with the decision (1 when unanimous). */
  fraction: number;
}

export type Confidence = 'certain' | { weakestStep: number; fraction: number };

export interface PrefixSearchResult {
  status: 'found' | 'no-change' | 'ambiguous' | 'infra';
  /** N, the number of patches in the series. */
  patches: number;
  /** Observations per step. */
  repeat: number;
  /** found: the first prefix (= patch number) whose value differs from the base. */
  firstBad?: number;
  /** ambiguous: patch numbers any of which may be the first change, ascending. */
  candidates?: number[];
  /** In the order they were tested. */
  steps: StepRecord[];
  /** How many times observe() was called. */
  observations: number;
  /** 'certain' when every step's observations agreed with its decision; else the weakest step. */
  confidence: Confidence;
  /** The decisive pair, for printing side by side: the last good and the first bad prefix. */
  lastGood?: StepRecord;
  firstBadStep?: StepRecord;
  /** The base's value, which "good" means. */
  baseValue?: string;
  /** infra: the prefix being observed when the infrastructure failed. */
  infraAt?: number;
  reason?: string;
}

export interface PrefixSearchOptions {
  /** N ≥ 1. */
  patches: number;
  tester: Tester;
  /** Observe each step this many times (K ≥ 1) to catch flaky probes. Default 1. */
  repeat?: number;
  /** Called as each step is decided (progress output). */
  onStep?: (step: StepRecord) => void;
}

/**
 * Middle steps a search of N patches needs at most when nothing is skipped:
 * each step leaves ⌈c/2⌉ of c candidates, so ⌈log2 N⌉ (which is never more
 * than ⌈log2(N+1)⌉). The two end checks come on top.
 */
export function middleStepBound(patches: number): number {
  return patches <= 1 ? 0 : 32 - Math.clz32(patches - 1);
}

/** Most observe() calls a search without skips makes: (2 ends + middle steps) × repeat. */
export function observationBudget(patches: number, repeat = 1): number {
  return (2 + middleStepBound(patches)) * repeat;
}

/** The single most frequent key, or undefined on a tie for first place. */
function plurality(tally: Map<string, number>): { key: string; count: number } | undefined {
  let best: { key: string; count: number } | undefined;
  let tied = false;
  for (const [key, count] of tally) {
    if (!best || count > best.count) {
      best = { key, count };
      tied = false;
    } else if (count === best.count) {
      tied = true;
    }
  }
  return tied ? undefined : best;
}

const bump = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);

/**
 * Decide one step from its K observations. For the base (no `baseValue`
 * yet) the majority value wins and defines "good". For every other step the
 * observations vote good / bad / skip by comparing with the base, so two
 * different failing values still agree that the step is bad. A tie for
 * first place is a skip: the step cannot be trusted either way.
 */
export function decideStep(k: number, observations: StepObservation[], baseValue?: string): StepRecord {
  const counts = new Map<string, number>();
  let skips = 0;
  for (const o of observations) {
    if (o.kind === 'value') bump(counts, o.value);
    else skips++;
  }
  const outcomes = counts.size + (skips > 0 ? 1 : 0);
  const total = observations.length;

  // Keys are 'v:<value>' for the base and 'good' | 'bad' elsewhere; skips vote as 'skip'.
  const votes = new Map<string, number>();
  const classify = (value: string) => (baseValue === undefined ? `v:${value}` : value === baseValue ? 'good' : 'bad');
  for (const [value, n] of counts) {
    const key = classify(value);
    votes.set(key, (votes.get(key) ?? 0) + n);
  }
  if (skips > 0) votes.set('skip', skips);

  const winner = plurality(votes);
  const top = Math.max(0, ...votes.values());
  const base = { k, observations, flaky: outcomes > 1, counts: Object.fromEntries(counts), skips, fraction: total === 0 ? 0 : top / total };
  if (!winner || winner.key === 'skip') return { ...base, decided: 'skip' };

  // The representative value: the most frequent one among those that voted for the winner.
  let value: string | undefined;
  for (const [v, n] of counts) {
    if (classify(v) === winner.key && (value === undefined || n > (counts.get(value) ?? 0))) value = v;
  }
  const evidence = observations.find((o) => o.kind === 'value' && o.value === value);
  const decided: StepDecision = baseValue === undefined || winner.key === 'good' ? 'good' : 'bad';
  return {
    ...base,
    decided,
    ...(value !== undefined ? { value } : {}),
    ...(evidence?.kind === 'value' && evidence.evidence !== undefined ? { evidence: evidence.evidence } : {}),
  };
}

/**
 * The prefix to test next inside the open interval (lo, hi): the middle, or
 * when that was skipped its nearest untried neighbours, alternating above and
 * below (mid+1, mid-1, mid+2 ...) as git bisect steps around untestable
 * commits. Undefined when everything left was skipped.
 */
export function nextPrefix(lo: number, hi: number, skipped: ReadonlySet<number>): number | undefined {
  const mid = lo + Math.floor((hi - lo) / 2);
  for (let d = 0; d < hi - lo; d++) {
    for (const k of d === 0 ? [mid] : [mid + d, mid - d]) {
      if (k > lo && k < hi && !skipped.has(k)) return k;
    }
  }
  return undefined;
}

function confidenceOf(steps: StepRecord[]): Confidence {
  let weakest: StepRecord | undefined;
  for (const s of steps) if (s.fraction < 1 && (!weakest || s.fraction < weakest.fraction)) weakest = s;
  return weakest ? { weakestStep: weakest.k, fraction: weakest.fraction } : 'certain';
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

function skipReasons(step: StepRecord): string {
  const reasons = [...new Set(step.observations.flatMap((o) => (o.kind === 'skip' ? [o.reason] : [])))];
  return reasons.length > 0 ? reasons.join('; ') : 'observations tied';
}

/**
 * Find the first prefix whose value differs from the base's. Both ends are
 * checked first (the base, then the full series); then a binary search keeps
 * lo good and hi bad. A middle prefix whose value differs from both the base
 * and the full series still counts as bad: the question is "first change".
 */
export async function searchPrefixes(opts: PrefixSearchOptions): Promise<PrefixSearchResult> {
  const n = opts.patches;
  const repeat = opts.repeat ?? 1;
  if (!Number.isInteger(n) || n < 1) throw usageError(`nothing to bisect: the series has ${n} patches`);
  if (!Number.isInteger(repeat) || repeat < 1) throw usageError(`--repeat must be a whole number ≥ 1, not ${repeat}`);

  const steps: StepRecord[] = [];
  const byPrefix = new Map<number, StepRecord>();
  let calls = 0;

  /** Observe prefix k `repeat` times; an infra observation ends the step (and the search) at once. */
  async function step(k: number, baseValue?: string): Promise<StepRecord | { infra: string }> {
    const seen: StepObservation[] = [];
    for (let i = 0; i < repeat; i++) {
      const o = await opts.tester.observe(k);
      calls++;
      if (o.kind === 'infra') return { infra: o.reason };
      seen.push(o);
    }
    const rec = decideStep(k, seen, baseValue);
    steps.push(rec);
    byPrefix.set(k, rec);
    opts.onStep?.(rec);
    return rec;
  }

  const finish = (status: PrefixSearchResult['status'], extra: Partial<PrefixSearchResult>): PrefixSearchResult => ({
    status,
    patches: n,
    repeat,
    ...extra,
    steps,
    observations: calls,
    confidence: confidenceOf(steps),
  });
  const infra = (k: number, reason: string) => finish('infra', { infraAt: k, reason });

  const base = await step(0);
  if ('infra' in base) return infra(0, base.infra);
  if (base.decided === 'skip' || base.value === undefined) {
    return finish('ambiguous', { candidates: range(1, n), reason: `the base (prefix 0) could not be tested: ${skipReasons(base)}` });
  }
  const baseValue = base.value;

  const full = await step(n, baseValue);
  if ('infra' in full) return infra(n, full.infra);
  if (full.decided === 'good') return finish('no-change', { baseValue, reason: `the full series observes the same as the base: ${baseValue}` });
  if (full.decided === 'skip') {
    return finish('ambiguous', { baseValue, candidates: range(1, n), reason: `the full series (prefix ${n}) could not be tested: ${skipReasons(full)}` });
  }

  let lo = 0;
  let hi = n;
  const skipped = new Set<number>();
  while (hi - lo > 1) {
    const k = nextPrefix(lo, hi, skipped);
    if (k === undefined) {
      return finish('ambiguous', {
        baseValue,
        candidates: range(lo + 1, hi),
        lastGood: byPrefix.get(lo)!,
        firstBadStep: byPrefix.get(hi)!,
        reason: `prefixes ${[...skipped].filter((s) => s > lo && s < hi).sort((a, b) => a - b).join(', ')} could not be tested`,
      });
    }
    const s = await step(k, baseValue);
    if ('infra' in s) return infra(k, s.infra);
    if (s.decided === 'good') lo = k;
    else if (s.decided === 'bad') hi = k;
    else skipped.add(k);
  }
  return finish('found', { baseValue, firstBad: hi, lastGood: byPrefix.get(lo)!, firstBadStep: byPrefix.get(hi)! });
}
