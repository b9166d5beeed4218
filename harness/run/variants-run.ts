// One command, several kernels: each variant is built for every architecture
// its ABIs need (x86_64 for compat and native64, i386 for native32), booted,
// and the results merged into one probe × ABI × variant matrix.
import { join } from 'node:path';
import { exitCodeFor } from '../console/parse-console.ts';
import { ARCHES, archForAbi, type ArchDef } from '../model/arch.ts';
import { ExitCode, type ConsoleResult } from '../model/results.ts';
import { buildMatrix, mergeResults, type Matrix } from '../report/matrix.ts';
import { KseriesError, usageError } from '../util/errors.ts';
import { wasInterrupted } from '../util/proc.ts';
import type { VariantPlan } from '../variant/plan.ts';
import { runPipeline, type RunOptions, type RunRecord, type Stage } from './pipeline.ts';
import type { Progress } from './progress.ts';

export interface VariantToRun {
  name: string;
  /** undefined: the tree as it is. */
  plan?: VariantPlan;
}

export interface VariantsRunOptions extends Omit<RunOptions, 'arch' | 'abis' | 'runDir' | 'variant' | 'fragments'> {
  abis: string[];
  variants: VariantToRun[];
  runDir: string;
  /** Base fragments come per arch from patches/base/<arch>.config. */
  baseFragmentsDir: string;
  /** Profile and --fragment files, for every arch. */
  extraFragments: string[];
  /** A kernel that fails to build or boot is listed in `failed` and the others still run (claims); default: the error ends the run. */
  keepGoing?: boolean;
}

export interface KernelRun {
  variant: string;
  arch: string;
  runDir: string;
  result: ConsoleResult;
  exitCode: number;
  stages: Stage[];
  /** The kernel's run record (results.json's run, or one entry of its kernels). */
  record: RunRecord;
}

/** A kernel that could not be built or booted, under keepGoing: its ABIs have no results. */
export interface FailedKernel {
  variant: string;
  arch: string;
  abis: string[];
  reason: string;
}

export interface VariantsOutcome {
  runs: KernelRun[];
  /** keepGoing only: the kernels that failed (the others' results are kept). */
  failed: FailedKernel[];
  /** Per variant, all of its kernels' results merged. */
  perVariant: { variant: string; result: ConsoleResult }[];
  merged: ConsoleResult;
  matrix: Matrix;
  exitCode: number;
}

/** ABIs grouped by the kernel they need, in a stable order. */
export function kernelsFor(abis: readonly string[]): { arch: ArchDef; abis: string[] }[] {
  const out: { arch: ArchDef; abis: string[] }[] = [];
  for (const abi of abis) {
    const arch = archForAbi(abi);
    if (!arch) throw usageError(`unknown ABI '${abi}' (have: ${Object.values(ARCHES).flatMap((a) => Object.keys(a.probeAbis)).join(', ')})`);
    const group = out.find((g) => g.arch === arch);
    if (group) group.abis.push(abi);
    else out.push({ arch, abis: [abi] });
  }
  return out;
}

export async function runVariants(o: VariantsRunOptions, progress: Progress): Promise<VariantsOutcome> {
  const kernels = kernelsFor(o.abis);
  const runs: KernelRun[] = [];
  const failed: FailedKernel[] = [];
  const perVariant: { variant: string; result: ConsoleResult }[] = [];
  for (const v of o.variants) {
    const vDir = o.variants.length > 1 ? join(o.runDir, v.name) : o.runDir;
    const parts: ConsoleResult[] = [];
    for (const k of kernels) {
      // The first kernel's artefacts sit at the top of the variant's directory, others in <arch>/.
      const dir = k === kernels[0] ? vDir : join(vDir, k.arch.name);
      progress.stage('run', `variant ${v.name}, ${k.arch.name} kernel (${k.abis.join(', ')}): artefacts in ${dir}`);
      const { variants: _v, abis: _a, runDir: _r, baseFragmentsDir, extraFragments, keepGoing, ...common } = o;
      let outcome: Awaited<ReturnType<typeof runPipeline>>;
      try {
        outcome = await runPipeline(
          {
            ...common,
            arch: k.arch,
            abis: k.abis,
            runDir: dir,
            fragments: [join(baseFragmentsDir, k.arch.fragment), ...extraFragments],
            ...(v.plan ? { variant: v.plan } : {}),
          },
          progress,
        );
      } catch (e) {
        // One arch's kernel failing (say, the series does not build for i386) leaves the other kernels' results standing.
        if (!keepGoing || !(e instanceof KseriesError) || wasInterrupted() || e.exitCode === ExitCode.USAGE) throw e;
        progress.stage('run', `variant ${v.name}, ${k.arch.name} kernel: ${e.message}`);
        failed.push({ variant: v.name, arch: k.arch.name, abis: [...k.abis], reason: e.message });
        continue;
      }
      runs.push({ variant: v.name, arch: k.arch.name, runDir: dir, result: outcome.result, exitCode: outcome.exitCode, stages: outcome.stages, record: outcome.record });
      parts.push(outcome.result);
    }
    perVariant.push({ variant: v.name, result: mergeResults(parts) });
  }
  const merged = mergeResults(perVariant.map((p) => p.result));
  const base = o.variants.some((v) => v.name === 'base') && o.variants.length > 1 ? 'base' : undefined;
  return { runs, failed, perVariant, merged, matrix: buildMatrix(perVariant, base), exitCode: exitCodeFor(merged) };
}
