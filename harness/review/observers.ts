// The two ways a review observes a variant: build and boot it and read every
// probe on every ABI (one group per kernel), or run --run commands in its
// applied tree (one group, 'run'). Both apply in the tree's shared worktree.
import { join } from 'node:path';
import type { PatchToApply } from '../apply/apply-series.ts';
import { commandJudge, verdictObservation } from '../bisect/judge.ts';
import { evidenceOf } from '../bisect/kernel-tester.ts';
import type { StepObservation } from '../bisect/search.ts';
import type { CacheStore } from '../cache/store.ts';
import { buildKernel, buildKey, compilerVersion, failedBefore, type BuildRequest } from '../kernel/build.ts';
import { requestedConfig } from '../kernel/configure.ts';
import { formatKconfig } from '../kernel/kconfig.ts';
import type { SourceTree, TreeSpec } from '../kernel/tree.ts';
import { fingerprint } from '../model/results.ts';
import { runPipeline, type RunOptions } from '../run/pipeline.ts';
import type { Progress } from '../run/progress.ts';
import { kernelsFor } from '../run/variants-run.ts';
import { infraError, KseriesError } from '../util/errors.ts';
import { withVariantCheckout } from '../variant/checkout.ts';
import type { CellId, ReviewObserver, ReviewVariant } from './review-types.ts';

/** New builds a review may start (--max-builds); cached builds are free. */
export class BuildBudget {
  used = 0;
  cached = 0;
  constructor(readonly max?: number) {}
  /** Count a build about to start; false when the budget is spent. */
  take(): boolean {
    if (this.max !== undefined && this.used >= this.max) return false;
    this.used++;
    return true;
  }
}

class LeftOut extends Error {}

/** Where variants are applied: the review's branches are kseries/<label>/<variant>. */
export interface ApplyContext {
  tree: SourceTree;
  store: CacheStore;
  label: string;
  base?: string;
  allowMisplaced: boolean;
}

/** A ref-safe name for a variant ("reply <id@host>" → "reply-id-host"). */
export const variantSlug = (name: string) => name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');

/** Apply `patches` in the worktree and run `fn` on the result; an apply failure is returned, not thrown. */
export async function applied<T>(ctx: ApplyContext, v: ReviewVariant, fn: (srcDir: string, identity: string, head: string) => Promise<T>): Promise<T | { refused: string; detail?: string }> {
  try {
    return await withVariantCheckout(
      { tree: ctx.tree, label: ctx.label, variant: variantSlug(v.name), patches: v.patches, allowMisplaced: ctx.allowMisplaced, store: ctx.store, ...(ctx.base ? { base: ctx.base } : {}) },
      (co) => fn(co.tree.srcDir, co.tree.identity, co.head),
    );
  } catch (e) {
    if (e instanceof KseriesError && e.exitCode === 2) return { refused: e.message, ...(e.detail ? { detail: e.detail } : {}) };
    throw e;
  }
}

export const isRefused = (x: unknown): x is { refused: string; detail?: string } => typeof x === 'object' && x !== null && 'refused' in x;

export interface KernelObserverOptions extends Omit<RunOptions, 'arch' | 'abis' | 'probes' | 'runDir' | 'variant' | 'tree' | 'fragments' | 'stages'> {
  tree: TreeSpec;
  apply: ApplyContext;
  fragmentsFor: (arch: string) => string[];
  probes: string[];
  abis: string[];
  runDir: string;
  budget: BuildBudget;
  progress: Progress;
}

/** A build failure in one line and without local paths: the compiler's first error, relative to the source tree. */
export function buildFailureReason(e: KseriesError): string {
  const first = (e.detail ?? '').split('\n').find((l) => /\berror\b/.test(l)) ?? '';
  const clean = first.replace(/(?:\.\.\/)*(?:[^\s:]*\/)?worktrees\/[0-9a-f]+\//g, '').trim();
  return clean ? `the kernel does not build: ${clean}` : 'the kernel does not build (no compiler error line in the log)';
}

/** Build and boot: one group per kernel the ABIs need, every probe on each of its ABIs. */
export function kernelObserver(o: KernelObserverOptions): ReviewObserver {
  const kernels = kernelsFor(o.abis);
  const groups = kernels.map((k) => k.arch.name);
  const cells = kernels.flatMap((k) => o.probes.flatMap((p) => k.abis.map((abi) => ({ cell: `${p}:${abi}`, group: k.arch.name }))));
  const identities = new Map<string, string | { refused: string }>();
  let compiler: Promise<string> | undefined;
  const keyFor = async (treeIdentity: string, arch: string) => {
    compiler ??= compilerVersion();
    const requested = formatKconfig(await requestedConfig(o.fragmentsFor(arch), o.kconfig));
    return buildKey({ treeIdentity, arch, requestedConfig: requested, compiler: await compiler });
  };
  return {
    groups,
    cells,
    async needsBuild(v, group) {
      let id = identities.get(v.name);
      if (!id) {
        const r = await applied(o.apply, v, async (_dir, identity) => identity);
        id = isRefused(r) ? { refused: r.refused } : r;
        identities.set(v.name, id);
      }
      if (typeof id !== 'string') return false; // it will be refused again when observed: nothing to build
      const key = await keyFor(id, group);
      // A remembered compile failure fails again at once: nothing to build either.
      return (await o.apply.store.lookup('builds', key)) === null && (o.retryFailed === true || !failedBefore(o.apply.store, key));
    },
    async observe(v, group, dirName) {
      const k = kernels.find((x) => x.arch.name === group)!;
      const runDir = join(o.runDir, dirName, group);
      const { tree, apply, fragmentsFor, probes, abis: _a, runDir: _r, budget, progress, ...common } = o;
      const patches: PatchToApply[] = v.patches;
      try {
        const out = await runPipeline(
          {
            ...common,
            tree,
            arch: k.arch,
            abis: k.abis,
            probes,
            runDir,
            fragments: fragmentsFor(group),
            variant: {
              label: apply.label,
              name: variantSlug(v.name),
              allowMisplaced: apply.allowMisplaced,
              ...(apply.base ? { base: apply.base } : {}),
              patches: async () => ({ list: { patches, series: [], describe: v.name } }),
            },
            stages: {
              buildKernel: async (req: BuildRequest, run) => {
                const key = await keyFor(req.tree.identity, req.arch.name);
                const hit = (await req.store.lookup('builds', key)) !== null || (!o.retryFailed && failedBefore(req.store, key));
                if (hit) budget.cached++;
                else if (!budget.take()) throw new LeftOut(`left out: --max-builds ${budget.max} reached before ${v.name} (${group})`);
                return buildKernel(req, run);
              },
            },
          },
          progress,
        );
        const seen = new Map<CellId, StepObservation>();
        for (const p of probes) {
          for (const abi of k.abis) {
            const r = out.result.probes.find((x) => x.probe === p && x.abi === abi);
            // A crash or hang is an observation too: it is what this variant does.
            seen.set(`${p}:${abi}`, r ? { kind: 'value', value: fingerprint(r), evidence: evidenceOf(r, runDir, out.record.buildCacheHit) } : { kind: 'value', value: `${out.result.status} (probe did not report)`, evidence: { status: out.result.status, cases: [], runDir } });
          }
        }
        return { kind: 'observed', cells: seen, cached: out.record.buildCacheHit, runDir };
      } catch (e) {
        if (e instanceof LeftOut) return { kind: 'left-out', reason: e.message };
        if (e instanceof KseriesError && e.kind === 'build') return { kind: 'skip', reason: `${buildFailureReason(e)} (build.log in ${dirName}/${group})` };
        if (e instanceof KseriesError && e.exitCode === 2) return { kind: 'skip', reason: e.message };
        throw e;
      }
    },
  };
}

/** --run CMD...: each command is a cell, judged as git bisect run judges (0 good, 1-127 bad, 125 skip). */
export function commandObserver(cmds: readonly string[], apply: ApplyContext, timeoutMs?: number): ReviewObserver {
  const cells = cmds.map((c) => ({ cell: `run:${c}`, group: 'run' }));
  return {
    groups: ['run'],
    cells,
    needsBuild: async () => false,
    async observe(v) {
      const r = await applied(apply, v, async (srcDir, _id, head) => {
        const seen = new Map<CellId, StepObservation>();
        for (const c of cmds) {
          const o = verdictObservation(await commandJudge(c, srcDir, timeoutMs ? { timeoutMs } : {})(head));
          if (o.kind === 'infra') throw infraError(o.reason);
          seen.set(`run:${c}`, o);
        }
        return seen;
      });
      if (isRefused(r)) return { kind: 'skip', reason: r.refused };
      return { kind: 'observed', cells: r, cached: false };
    },
  };
}

