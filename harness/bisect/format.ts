// Terminal lines for bisect results. Kept apart from the searches so they
// stay pure; callers print the lines however they print everything else.
import type { PatchList } from '../variant/patches.ts';
import type { RangeBisectResult } from './git-bisect.ts';
import type { PrefixSearchResult, StepRecord } from './search.ts';
import { hideLocalDirs, wrap, WIDTH } from '../report/text.ts';

/** "2× FAIL:x | 1× PASS | 1× skip": what a flaky step saw (values may hold commas). */
function tally(step: StepRecord): string {
  const parts = Object.entries(step.counts)
    .sort((a, b) => b[1] - a[1])
    .map(([v, n]) => `${n}× ${v}`);
  if (step.skips > 0) parts.push(`${step.skips}× skip`);
  return parts.join(' | ');
}

/** What a step showed: its value, or why it was skipped. */
function shown(step: StepRecord): string {
  if (step.value !== undefined) return step.value;
  const reasons = [...new Set(step.observations.flatMap((o) => (o.kind === 'skip' ? [o.reason] : [])))];
  return reasons.length > 0 ? `(${reasons.join('; ')})` : '(observations tied)';
}

const percent = (f: number) => `${Math.round(f * 100)}%`;

/** Lines describing a prefix search; `describe(k)` names prefix k (0 = the base, k = patch k). */
export function formatBisectResult(result: PrefixSearchResult, describe: (k: number) => string): string[] {
  const lines: string[] = [];
  const n = result.patches;
  const side = (label: string, s: StepRecord | undefined) => {
    if (s) lines.push(`  ${label} [${s.k}] ${describe(s.k)}: ${shown(s)}`);
  };

  switch (result.status) {
    case 'found':
      lines.push(`first change: prefix ${result.firstBad}/${n}, ${describe(result.firstBad!)}`);
      side('last good', result.lastGood);
      side('first bad', result.firstBadStep);
      break;
    case 'no-change':
      lines.push(`no change: the base and the full series (${n} patches) observe the same: ${result.baseValue ?? '?'}`);
      break;
    case 'ambiguous': {
      const c = result.candidates ?? [];
      const span = c.length > 1 ? `one of patches ${c[0]}..${c.at(-1)}` : `patch ${c[0]}`;
      lines.push(`ambiguous: the first change is ${span}${result.reason ? ` (${result.reason})` : ''}`);
      for (const k of c) lines.push(`  candidate [${k}] ${describe(k)}`);
      side('last good', result.lastGood);
      side('known bad', result.firstBadStep);
      break;
    }
    case 'infra':
      lines.push(`stopped: infrastructure failure at prefix ${result.infraAt} (${describe(result.infraAt ?? 0)}): ${result.reason ?? 'unknown'}`);
      break;
  }

  if (result.steps.length > 0) {
    lines.push('steps, in the order tested:');
    const width = String(n).length;
    for (const s of result.steps) {
      const flaky = s.flaky ? `  [flaky: ${tally(s)}]` : '';
      lines.push(`  ${String(s.k).padStart(width)}  ${s.decided.padEnd(4)}  ${shown(s)}${flaky}`);
    }
  }
  lines.push(`observations: ${result.observations} (${result.repeat} per step)`);
  const c = result.confidence;
  if (c === 'certain') {
    lines.push('confidence: certain (every step observed the same each time)');
  } else {
    const weakest = result.steps.find((s) => s.k === c.weakestStep);
    const detail = weakest ? `; it saw ${tally(weakest)}` : '';
    lines.push(`confidence: ${percent(c.fraction)}, the weakest step is prefix ${c.weakestStep}${detail}`);
  }
  return lines;
}

/** Lines describing a git bisect over a commit range. */
export function formatRangeResult(result: RangeBisectResult): string[] {
  const lines: string[] = [];
  const short = (sha: string) => sha.slice(0, 12);
  const named = (sha: string) => `${short(sha)} ${result.subjects[sha] ?? ''}`.trimEnd();
  switch (result.status) {
    case 'found':
      lines.push(`first bad commit: ${named(result.firstBad!.sha)}`);
      break;
    case 'ambiguous':
      lines.push(`ambiguous: only skipped commits are left; the first bad commit is one of:`);
      for (const sha of result.candidates ?? []) lines.push(`  ${named(sha)}`);
      break;
    case 'infra':
      lines.push(`stopped: infrastructure failure${result.reason ? `: ${result.reason}` : ''}`);
      break;
  }
  if (result.steps.length > 0) {
    lines.push('steps, in the order tested:');
    for (const s of result.steps) {
      const role = s.end ? ` (${s.end} end)` : '';
      lines.push(`  ${s.verdict.padEnd(5)} ${named(s.commit)}${role}${s.reason ? `: ${s.reason}` : ''}`);
    }
  }
  return lines;
}

/** Names prefix k of a patch list: the base, or patch k with its number, title and Message-ID. */
export function prefixNamer(list: PatchList): (k: number) => string {
  return (k) => {
    if (k === 0) return 'the base';
    const p = list.patches[k - 1]!;
    return `patch ${p.index}/${p.total ?? list.patches.length} "${p.title}" <${p.message.messageId}>`;
  };
}

type EvidenceCase = { name: string; status: string; evidence: string };

/** The cases of a step's evidence (a probe's, see kernel-tester.ts); none for other evidence. */
function casesOf(evidence: unknown): EvidenceCase[] {
  const cases = (evidence as { cases?: unknown } | undefined)?.cases;
  return Array.isArray(cases) ? (cases as EvidenceCase[]) : [];
}

/** The probe's evidence at the last good and the first bad step, next to each other (none without both steps or any cases). */
export function sideBySide(r: PrefixSearchResult): string[] {
  if (!r.lastGood || !r.firstBadStep) return [];
  const good = casesOf(r.lastGood.evidence);
  const bad = casesOf(r.firstBadStep.evidence);
  if (good.length === 0 && bad.length === 0) return [];
  const names = [...new Set([...good, ...bad].map((c) => c.name))];
  const cell = (c?: { status: string; evidence: string }) => (c ? `${c.status} ${c.evidence}`.slice(0, 60) : '-');
  const w = Math.max(...names.map((n) => n.length));
  return [
    `evidence: last good (prefix ${r.lastGood.k}) | first bad (prefix ${r.firstBadStep.k})`,
    ...names.map((n) => `  ${n.padEnd(w)}  ${cell(good.find((c) => c.name === n)).padEnd(60)} | ${cell(bad.find((c) => c.name === n))}`),
  ];
}

/** What bisect.txt says about the run besides the result: no local path in any of it. */
export interface BisectTextContext {
  /** The series or range in words, e.g. '"let import_iovec deal with compat_iovecs as well" v4'. */
  what: string;
  /** The tree by version and commit (publicTreeName). */
  tree: string;
  /** "process_vm:compat", or "--run 'make -C tools ...'". */
  tester: string;
  /** The command with local paths cut (publicCommand). */
  command: string;
  /** Local directories named by their role instead (run dir, cache, tree, home). */
  localDirs: { dir: string; name: string }[];
}

/**
 * bisect.txt, a reply for the list: the result and the steps as on the terminal, the evidence
 * of the cases that changed between the last good and the first bad step stacked (no side-by-side
 * columns), at most 72 columns, no local path.
 */
export function formatBisectText(resultLines: readonly string[], changed: readonly string[], ctx: BisectTextContext): string {
  const hide = (s: string) => hideLocalDirs(s, ctx.localDirs);
  const out = [
    ...wrap(`kseries bisect: ${ctx.what}`),
    ...wrap(`tree: ${ctx.tree}`),
    ...wrap(`watching: ${ctx.tester}`),
    '',
    ...resultLines.flatMap((l) => wrap(hide(l), WIDTH, 4)),
  ];
  if (changed.length > 0) out.push('', ...changed.flatMap((l) => wrap(hide(l), WIDTH, 4)));
  out.push('', 'reproduce:', ...wrap(`  ${hide(ctx.command)}`, WIDTH, 4), '');
  return out.join('\n');
}

/** The cases whose status differs between the last good and the first bad step, each side on its own line. */
export function changedCases(r: PrefixSearchResult): string[] {
  if (!r.lastGood || !r.firstBadStep) return [];
  const good = casesOf(r.lastGood.evidence);
  const bad = casesOf(r.firstBadStep.evidence);
  const names = [...new Set([...good, ...bad].map((c) => c.name))];
  const differ = names.filter((n) => good.find((c) => c.name === n)?.status !== bad.find((c) => c.name === n)?.status);
  if (differ.length === 0) return [];
  const side = (c?: EvidenceCase) => (c ? `${c.status} ${c.evidence}`.trimEnd() : '(not reported)');
  const same = names.length - differ.length;
  return [
    `what changed from prefix ${r.lastGood.k} (last good) to ${r.firstBadStep.k} (first bad):`,
    ...differ.flatMap((n) => [`  ${n}`, `    good: ${side(good.find((c) => c.name === n))}`, `    bad:  ${side(bad.find((c) => c.name === n))}`]),
    ...(same > 0 ? [`  (${same} other case${same === 1 ? '' : 's'} the same)`] : []),
  ];
}
