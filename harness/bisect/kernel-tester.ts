// The environment side of bisection: observing one probe on one ABI for a
// prefix of a series (or a commit), by building and booting it. A build
// failure is a skip; any other infrastructure error stops the search.
import { join } from 'node:path';
import type { CacheStore } from '../cache/store.ts';
import type { SourceTree, TreeSpec } from '../kernel/tree.ts';
import type { ProbeResult } from '../model/results.ts';
import { decidingLines, fingerprint } from '../model/results.ts';
import { runPipeline, type RunOptions } from '../run/pipeline.ts';
import type { Progress } from '../run/progress.ts';
import { archForAbi } from '../model/arch.ts';
import { KseriesError, usageError } from '../util/errors.ts';
import type { PatchList } from '../variant/patches.ts';
import type { VariantPlan } from '../variant/plan.ts';
import { withVariantCheckout } from '../variant/checkout.ts';
import { commandJudge, verdictObservation } from './judge.ts';
import type { StepObservation, Tester } from './search.ts';

/** "io_uring_setup:compat" → probe and ABI (compat by default). */
export function parseProbeSpec(spec: string): { probe: string; abi: string } {
  const [probe, abi = 'compat'] = spec.split(':');
  if (!probe || !archForAbi(abi)) throw usageError(`--probe must be NAME[:ABI] with ABI compat, native64 or native32, got '${spec}'`);
  return { probe, abi };
}

/** What a step shows a reviewer: the probe's status and each case with its first diagnostic. */
export interface ProbeEvidence {
  status: string;
  cases: { name: string; status: string; evidence: string }[];
  runDir: string;
  buildCacheHit: boolean;
}

/** The line that decides a case: a data comparison, else an errno, else a return value, else the first. */
const stepLine = (diagnostics: readonly string[]): string =>
  decidingLines(diagnostics, [[/identical|differ/], [/errno=/], [/ret=/]], { max: 1, fallback: 'first' })[0] ?? '';

export function evidenceOf(p: ProbeResult, runDir: string, buildCacheHit: boolean): ProbeEvidence {
  return {
    status: p.status,
    cases: p.cases.map((c) => ({ name: c.name, status: c.status, evidence: stepLine(c.diagnostics) })),
    runDir,
    buildCacheHit,
  };
}

export type StepRunOptions = Omit<RunOptions, 'arch' | 'abis' | 'probes' | 'runDir' | 'variant' | 'tree' | 'fragments'> & {
  tree: TreeSpec;
  fragmentsFor: (arch: string) => string[];
  runDir: string;
};

/** Observe `probe` on `abi` with `plan` applied (or the tree as is). */
export async function observeProbe(
  o: StepRunOptions,
  spec: { probe: string; abi: string },
  plan: VariantPlan | undefined,
  dirName: string,
  progress: Progress,
): Promise<StepObservation> {
  const arch = archForAbi(spec.abi)!;
  const runDir = join(o.runDir, dirName);
  try {
    const out = await runPipeline(
      { ...o, arch, abis: [spec.abi], probes: [spec.probe], runDir, fragments: o.fragmentsFor(arch.name), ...(plan ? { variant: plan } : {}) },
      progress,
    );
    const p = out.result.probes.find((x) => x.probe === spec.probe && x.abi === spec.abi);
    // A crash or hang is an observation too: it is what this prefix does.
    const value = p ? fingerprint(p) : `${out.result.status} (probe did not report)`;
    return { kind: 'value', value, evidence: p ? evidenceOf(p, runDir, out.record.buildCacheHit) : { status: out.result.status, cases: [], runDir } };
  } catch (e) {
    if (e instanceof KseriesError && e.kind === 'build') return { kind: 'skip', reason: e.message };
    if (e instanceof KseriesError && e.exitCode === 3) return { kind: 'infra', reason: e.message };
    throw e;
  }
}

/** A tester over the prefixes of a patch list: prefix k applies patches 1..k. */
export function prefixTester(
  o: StepRunOptions,
  spec: { probe: string; abi: string },
  base: Omit<VariantPlan, 'patches'>,
  list: PatchList,
  progress: Progress,
): Tester {
  return {
    observe: (k) => {
      progress.stage('bisect', `prefix ${k}/${list.patches.length}${k > 0 ? ` (up to ${list.patches[k - 1]!.title})` : ' (the base)'}`);
      const plan: VariantPlan = {
        ...base,
        name: `${base.name}-bisect`,
        // The series summary was printed once already; each step only applies a prefix.
        patches: async () => ({ list: { ...list, series: [], patches: list.patches.slice(0, k) } }),
      };
      return observeProbe(o, spec, plan, `prefix-${k}`, progress);
    },
  };
}

/**
 * A tester over the prefixes of a patch list judged by a command (--run): prefix k is applied
 * in the variant's worktree and `cmd` run there, as git bisect run would.
 */
export function commandPrefixTester(
  cmd: string,
  o: { tree: SourceTree; store: CacheStore },
  plan: Omit<VariantPlan, 'patches'>,
  list: PatchList,
): Tester {
  return {
    observe: (k) =>
      withVariantCheckout(
        { tree: o.tree, label: plan.label, variant: `${plan.name}-bisect`, patches: list.patches.slice(0, k), allowMisplaced: plan.allowMisplaced, store: o.store, ...(plan.base ? { base: plan.base } : {}) },
        async (co) => verdictObservation(await commandJudge(cmd, co.tree.srcDir)(co.head)),
      ),
  };
}
