// One run: tree → config+build → guest image → boot → console → results.
// Each stage is its own module; this file only sequences them and times them.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CacheStore } from '../cache/store.ts';
import { parseConsole, exitCodeFor } from '../console/parse-console.ts';
import { buildGuest } from '../image/guest.ts';
import { buildInitramfs, type UserAdd } from '../image/initramfs.ts';
import { buildKernel, type BuildResult } from '../kernel/build.ts';
import { requestedConfig } from '../kernel/configure.ts';
import { resolveTree, type SourceTree, type TreeSpec } from '../kernel/tree.ts';
import { formatApplyReport } from '../report/apply-report.ts';
import { formatSeriesSummary } from '../apply/series-summary.ts';
import { withVariantCheckout, type VariantCheckout } from '../variant/checkout.ts';
import { UNPATCHED, type VariantPlan } from '../variant/plan.ts';
import type { ArchDef } from '../model/arch.ts';
import type { ConsoleResult } from '../model/results.ts';
import { chooseAccel, hostProbe, type AccelChoice } from '../qemu/accel.ts';
import { bootKernel, qemuArgv } from '../qemu/runner.ts';
import { checkCpuModel, DEFAULT_VM, smpKconfig, type VmSpec } from '../qemu/vm.ts';
import { runCommand } from '../util/proc.ts';
import { usageError } from '../util/errors.ts';
import { buildSelftests, checkTargets, targetFragments, type SelftestsBuild } from '../selftests/build.ts';
import { KSELFTEST_GUEST_DIR, selectCases, selftestPlan } from '../selftests/plan.ts';
import { cpus } from 'node:os';
import { Progress, BootCounter } from './progress.ts';
import { formatDuration } from '../util/duration.ts';
import { INITRD_PLACEHOLDER, KERNEL_PLACEHOLDER, recordSources, writeBootSpec, writeBuildArtefacts, writeImageArtefacts, writeReproducer } from './rundir.ts';

export interface RunOptions {
  tree: TreeSpec;
  arch: ArchDef;
  /** Config fragment files, merged in order after tinyconfig. */
  fragments: string[];
  kconfig: [string, string][];
  accel: AccelChoice;
  cacheRoot: string;
  runDir: string;
  /** Probe names to run (undefined: all). */
  probes?: string[];
  /** Probes also run as uid 65534 (reported as <probe>_unpriv). */
  unprivileged?: string[];
  abis: string[];
  adds: UserAdd[];
  execs: string[];
  /** Put the guest shell (busybox) in even when no payload needs it. */
  shell?: boolean;
  /** kselftest targets to build from the tree under test and run, one plan entry per test (kseries selftests). */
  selftests?: { targets: string[]; maxTimeoutSec: number; only?: string[] };
  probeTimeoutSec: number;
  execTimeoutSec: number;
  bootTimeoutSec: number;
  /** The machine booted (default DEFAULT_VM): --smp, --memory, --cpu, the profile's devices and command line. */
  vm?: VmSpec;
  jobs?: number;
  /** Build again what failed to compile before with the same inputs (remembered failures are otherwise not rebuilt). */
  retryFailed?: boolean;
  /** Patches to apply first; the build then runs in the variant's worktree. */
  variant?: VariantPlan;
  /** Stage implementations to use instead of the real ones (tests: a build that blocks). */
  stages?: Partial<PipelineStages>;
}

/** The stages the pipeline sequences, injectable as in kunit_tool and syzkaller's pkg/bisect. */
export interface PipelineStages {
  resolveTree: typeof resolveTree;
  buildKernel: typeof buildKernel;
  buildGuest: typeof buildGuest;
  bootKernel: typeof bootKernel;
}
const STAGES: PipelineStages = { resolveTree, buildKernel, buildGuest, bootKernel };

export interface Stage {
  name: string;
  ms: number;
}

/** The variant's branch as applied (absent for a plain run of a git tree). */
export interface AppliedVariant {
  /** <label>/<name> */
  variant: string;
  branch: string;
  baseCommit: string;
  head: string;
  applied: VariantCheckout['reports'];
  /** Identity of the worktree built (the tree's identity with the patches). */
  sourceIdentity: string;
}

/**
 * What one kernel's run was: results.json's `run` (one kernel) or an entry of its
 * `kernels`. The field names and their order are results.json's; do not rename them.
 */
export type RunRecord = {
  runDir: string;
  arch: string;
  cache: string;
  kernelVersion: string;
  /** The tree as described to the user, and its identity (cache key input). */
  tree: string;
  treeIdentity: string;
} & Partial<AppliedVariant> & {
  buildKey: string;
  buildCacheHit: boolean;
  compiler: string;
  accel: string;
  accelReason: string;
  /** First line of `qemu --version`. */
  qemu: string;
  qemuExit: number | null;
  qemuStderr?: string;
  stages: Stage[];
};

export interface RunOutcome {
  exitCode: number;
  result: ConsoleResult;
  stages: Stage[];
  record: RunRecord;
}

export async function runPipeline(o: RunOptions, progress: Progress): Promise<RunOutcome> {
  const stages: Stage[] = [];
  const run = { ...STAGES, ...o.stages };
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    progress.begin(name);
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      stages.push({ name, ms: Date.now() - t0 });
    }
  };
  const store = new CacheStore(o.cacheRoot, { onWait: (line) => progress.stage('cache', line), onNote: (line) => progress.stage('cache', line) });
  await mkdir(o.runDir, { recursive: true });
  const vm = o.vm ?? DEFAULT_VM;
  await checkCpuModel(vm, o.arch.qemuBinary);

  const tree = await timed('tree', () => run.resolveTree(o.tree, { store, log: (m) => progress.stage('tree', m) }));
  progress.stage('tree', `${tree.describe}, Linux ${tree.version}`);

  // --smp 2 on a kernel without SMP would quietly use one CPU: ask for it (a --kconfig given after still wins).
  // A kselftest target's own config fragment is merged after kseries' (the tree's, not the patches').
  const st = o.selftests;
  if (st) checkTargets(tree.srcDir, st.targets);
  const stFragments = st ? targetFragments(tree.srcDir, st.targets) : [];
  for (const f of stFragments) progress.stage('config', `kselftest fragment ${f}`);
  const requested = await requestedConfig([...o.fragments, ...stFragments], [...smpKconfig(vm), ...o.kconfig]);
  let selftests: SelftestsBuild | undefined;
  let t0 = Date.now();
  const buildFrom = async (src: SourceTree) => {
    const b = await buildKernelFrom(src);
    if (st) {
      const tSt = Date.now();
      progress.begin('selftests');
      selftests = await buildSelftests({
        srcDir: src.srcDir, sourceIdentity: src.identity, arch: o.arch, targets: st.targets, compiler: b.compiler, store,
        jobs: o.jobs ?? cpus().length, logPath: join(o.runDir, 'selftests-build.log'), log: (m) => progress.stage('selftests', m),
      });
      stages.push({ name: 'selftests', ms: Date.now() - tSt });
      const chosen = selectCases(selftests.cases, st.only ?? []);
      if (chosen.unmatched.length > 0) {
        throw usageError(`--test ${chosen.unmatched.join(', ')}: no such test in ${st.targets.join(' ')} (have: ${selftests.cases.map((c) => `${c.collection}:${c.test}`).join(' ')})`);
      }
      selftests.cases = chosen.cases;
      // The kernel's build time is measured up to here: the selftests are timed on their own.
      t0 += Date.now() - tSt;
    }
    return b;
  };
  const buildKernelFrom = (src: SourceTree) => {
    progress.begin('build');
    t0 = Date.now();
    return run.buildKernel({
      tree: src,
      arch: o.arch,
      requested,
      store,
      logPath: join(o.runDir, 'build.log'),
      ...(o.jobs ? { jobs: o.jobs } : {}),
      ...(o.retryFailed ? { retryFailed: true } : {}),
      log: (m) => progress.stage('build', m),
      onObjects: (n) => progress.live('build', `${n} objects, ${formatDuration(Date.now() - t0)}`),
    });
  };
  let build: BuildResult;
  let buildSrc = tree.srcDir;
  let checkout: { dir: string; commit: string } | undefined;
  let variantCommits: { repoDir: string; baseCommit: string; head: string } | undefined;
  let applied: AppliedVariant | undefined;
  // A tree without git history is built from its kseries worktree too, even
  // with no patches: then plain runs and every variant compile at one path
  // and share ccache, so only the first build of a tree is cold.
  const plan = o.variant ?? (tree.isGit ? undefined : UNPATCHED);
  if (plan) {
    const v = plan;
    const { list, base } = await timed('series', () => v.patches(tree));
    for (const s of list.series) for (const line of formatSeriesSummary(s)) progress.stage('series', line);
    for (const n of list.notes ?? []) progress.stage('series', n);
    progress.begin('apply');
    const tApply = Date.now();
    build = await withVariantCheckout(
      {
        tree,
        ...(base ?? v.base ? { base: (base ?? v.base)! } : {}),
        label: v.label,
        variant: v.name,
        patches: list.patches,
        allowMisplaced: v.allowMisplaced,
        store,
        log: (m) => progress.stage('apply', m),
      },
      async (co) => {
        stages.push({ name: 'apply', ms: Date.now() - tApply });
        for (const line of formatApplyReport(co.reports)) progress.stage('apply', line);
        progress.stage('apply', `branch ${co.branch} at ${co.head.slice(0, 12)} in ${co.repoDir}`);
        applied = { variant: `${v.label}/${v.name}`, branch: co.branch, baseCommit: co.baseCommit, head: co.head, applied: co.reports, sourceIdentity: co.tree.identity };
        buildSrc = co.tree.srcDir;
        checkout = { dir: co.tree.srcDir, commit: co.head };
        variantCommits = { repoDir: co.repoDir, baseCommit: co.baseCommit, head: co.head };
        return buildFrom(co.tree);
      },
    );
  } else {
    build = await buildFrom(tree);
  }
  // config: seeding the build dir and configuring; build: the rest of buildKernel (make, publishing the entry), or the cache hit.
  const buildWall = Date.now() - t0;
  stages.push({ name: 'config', ms: build.configMs }, { name: 'build', ms: Math.max(0, buildWall - build.configMs) });
  progress.stage('build', build.cacheHit ? `cache hit ${build.entryDir}` : `built in ${formatDuration(build.buildMs)} (${build.entryDir})`);
  await writeBuildArtefacts(o.runDir, build);

  const initrd = join(o.runDir, 'initramfs.cpio');
  const image = await timed('image', async () => {
    const guest = await run.buildGuest(store, build.compiler);
    const probes = o.probes ?? guest.probes;
    const fs = await buildInitramfs({
      arch: o.arch,
      guestDir: guest.dir,
      probes,
      abis: o.abis,
      probeTimeoutSec: o.probeTimeoutSec,
      ...(o.unprivileged ? { unprivileged: o.unprivileged.filter((p) => probes.includes(p)) } : {}),
      execs: o.execs,
      execTimeoutSec: o.execTimeoutSec,
      adds: [...o.adds, ...(selftests ? [{ hostPath: selftests.installDir, guestPath: KSELFTEST_GUEST_DIR, label: `kselftest ${st!.targets.join(' ')}` }] : [])],
      ...(o.shell ? { shell: true } : {}),
      ...(selftests ? { extraPlan: selftestPlan(selftests.cases, { timeouts: selftests.timeouts, maxTimeoutSec: st!.maxTimeoutSec }) } : {}),
    });
    for (const n of fs.notes) progress.stage('image', n);
    await writeImageArtefacts(o.runDir, fs);
    return fs;
  });
  progress.stage('image', `initramfs with ${image.plan.length} plan entr${image.plan.length === 1 ? 'y' : 'ies'} (${(image.cpio.length / 1024).toFixed(0)} KiB)`);

  progress.begin('boot');
  const accel = await chooseAccel(o.accel, o.arch.qemuBinary, hostProbe());
  const qemuVersion = (await runCommand(o.arch.qemuBinary, ['--version'])).stdout.split('\n')[0] ?? '';
  const bootReq = { arch: o.arch, accel, kernelImage: build.kernelImage, initrd, vm };
  await writeReproducer(o.runDir, {
    srcDir: buildSrc,
    ...(checkout ? { checkout } : {}),
    source: await recordSources(o.runDir, { spec: o.tree, tree, ...(variantCommits ? { variant: variantCommits } : {}) }),
    makeArch: o.arch.makeArch,
    buildArgs: build.buildArgs,
    buildEnv: build.buildEnv,
    image: o.arch.image,
    qemuArgv: qemuArgv({ ...bootReq, kernelImage: KERNEL_PLACEHOLDER, initrd: INITRD_PLACEHOLDER }),
  });
  await writeBootSpec(o.runDir, qemuArgv({ ...bootReq, kernelImage: KERNEL_PLACEHOLDER, initrd: INITRD_PLACEHOLDER }));
  progress.stage('boot', `${accel.accel.toUpperCase()} (${accel.reason})`);
  const longest = Math.max(0, ...image.plan.map((p) => p.timeoutSec));
  const counter = new BootCounter();
  const bootT0 = Date.now();
  const boot = await timed('boot', () =>
    run.bootKernel({
      ...bootReq,
      // The live line on a TTY: how many probes have reported so far.
      onData: (chunk) => {
        counter.feed(chunk.toString('latin1'));
        progress.live('boot', counter.describe(Date.now() - bootT0, formatDuration));
      },
      consolePath: join(o.runDir, 'console.log'),
      // The init reports after each entry, so silence longer than the longest entry's timeout is a hang.
      silenceMs: (longest + 60) * 1000,
      overallMs: o.bootTimeoutSec * 1000,
    }),
  );
  if (boot.hang) progress.stage('boot', `no progress: ${boot.hang === 'silence' ? 'console silent too long' : 'overall timeout'}; QEMU killed`);

  progress.begin('console');
  const consoleText = await readFile(join(o.runDir, 'console.log'), 'utf8');
  // The runner wrote its kill of QEMU into the log: the verdict is the log's alone.
  const result = parseConsole(consoleText);
  const exitCode = exitCodeFor(result);
  const qemuStderr = boot.stderr.trim();
  const record: RunRecord = {
    runDir: o.runDir,
    arch: o.arch.name,
    cache: o.cacheRoot,
    kernelVersion: tree.version,
    tree: tree.describe,
    treeIdentity: tree.identity,
    ...applied,
    buildKey: build.key,
    buildCacheHit: build.cacheHit,
    compiler: build.compiler,
    accel: accel.accel,
    accelReason: accel.reason,
    qemu: qemuVersion,
    qemuExit: boot.exitCode,
    ...(qemuStderr ? { qemuStderr } : {}),
    stages,
  };
  return { exitCode, result, stages, record };
}
