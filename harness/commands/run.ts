// kseries run: build the kernel, boot it with the probes, report KTAP results.
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { listProbes } from '../image/guest.ts';
import { planInitramfs } from '../image/initramfs.ts';
import { ExitCode, type Status } from '../model/results.ts';
import { formatElapsed, formatResultTable } from '../report/summary.ts';
import type { PipelineStages, RunRecord, Stage } from '../run/pipeline.ts';
import { kernelsFor, runVariants, type KernelRun, type VariantsRunOptions, type VariantToRun } from '../run/variants-run.ts';
import { formatMatrix } from '../report/matrix.ts';
import { resultsKtap } from '../report/ktap.ts';
import { junitXml, resultsJunit } from '../report/junit.ts';
import { htmlPage, matrixSection } from '../report/html.ts';
import { kcidbDocument, type KcidbRun } from '../report/kcidb.ts';
import { sha256File } from '../util/hash.ts';
import { Progress } from '../run/progress.ts';
import { createRunDir } from '../run/rundir.ts';
import { KseriesError, usageError } from '../util/errors.ts';
import { onInterrupt, wasInterrupted } from '../util/proc.ts';
import { BASE_FRAGMENTS_DIR, bootOptions, buildAndBootFrom, configOptions, countOption, exitCodeCommand, htmlOption, jsonOption, junitOption, ktapOption, MAX_ENTRY_TIMEOUT_SEC, outOption, repeatable, seriesOptions, treeOptions } from './options.ts';
import { profileFrom, treeFor } from './series-args.ts';
import { variantPlanFrom } from '../variant/plan.ts';
import { documentHeader } from '../report/documents.ts';
import { jsonSink, jsonText, writeInterrupted, writeResults } from './output.ts';
import { checkAdds, checkExecs, checkFragments, checkProbes, checkOutputFiles, outputFiles } from './validate.ts';
import { DEFAULT_ABIS } from '../model/arch.ts';
import { SELFTESTS_VM, selftestFragments } from '../selftests/defaults.ts';
import { KSELFTEST_GUEST_DIR } from '../selftests/plan.ts';
import { splitCommand } from '../image/init-plan.ts';

function builder(y: Argv) {
  return bootOptions(seriesOptions(configOptions(treeOptions(y))))
    .option('probe', { ...repeatable('probe to run (default: the profile\'s, else all)', 'Guest:'), default: undefined })
    .option('abi', { type: 'string', group: 'Guest:', describe: 'probe ABIs, comma-separated (default: the profile\'s, else compat,native64)' })
    .option('add', repeatable('put PATH[:GUESTPATH] into the initramfs (default /bin/NAME)', 'Guest:'))
    .option('exec', repeatable("run 'CMD' in the guest after the probes", 'Guest:'))
    .option('shell', { type: 'boolean', default: false, group: 'Guest:', describe: "put busybox in the guest as /bin/sh and its applets (added anyway when a payload needs /bin/sh)" })
    .option('exec-timeout', countOption('exec-timeout', 'seconds per --exec command', { default: 300, group: 'Guest:', max: MAX_ENTRY_TIMEOUT_SEC }))
    .option('out', outOption('run directory'))
    .option('json', jsonOption("also write results JSON to FILE ('-' for stdout)", 'Output:'))
    .option('ktap', ktapOption())
    .option('junit', junitOption())
    .option('kcidb', { type: 'string', nargs: 1, group: 'Output:', describe: "the run as KernelCI's KCIDB v5.3 JSON to FILE: checkouts, builds, and tests with dotted paths" })
    .option('html', htmlOption('one self-contained HTML page to FILE: the probe × ABI × variant matrix, cells coloured by status'));
}

/** `kseries selftests TARGET...` is a run whose targets are kselftest's (commands/selftests.ts). */
type RunArgs = ArgumentsCamelCase<Awaited<ReturnType<ReturnType<typeof builder>['parseAsync']>>> & { targets?: string[]; only?: string[] };

export { builder as runBuilder };
export type { RunArgs };

/** Every input checked and turned into the typed request, before anything is created or built. */
async function runRequestFrom(a: RunArgs): Promise<Omit<VariantsRunOptions, 'runDir'>> {
  const profile = await profileFrom(a);
  const targets = a.targets;
  // kselftest runs on the x86_64 kernel (its x86 target builds _32 and _64 programs itself); probes only when asked for.
  const abis = a.abi ? a.abi.split(',').map((s) => s.trim()).filter(Boolean) : targets ? ['native64'] : (profile?.abis ?? [...DEFAULT_ABIS]);
  if (abis.length === 0) throw usageError('--abi needs at least one ABI');
  const kernels = kernelsFor(abis);
  if (targets && kernels.some((k) => k.arch.name !== 'x86_64')) throw usageError(`kseries selftests runs on the x86_64 kernel; --abi ${a.abi} asks for ${kernels.map((k) => k.arch.name).join(', ')}`);
  const probes = a.probe && a.probe.length > 0 ? a.probe : targets ? [] : profile?.probes;
  const badTest = (a.only ?? []).find((p) => !/^[^:\s]+:\S+$/.test(p));
  if (badTest !== undefined) throw usageError(`--test ${badTest}: expected COLLECTION:TEST, e.g. timers:posix_timers or 'x86:*'`);
  const tree = treeFor(a, profile);
  const names = (a.variant ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const variants: VariantToRun[] = profile
    ? names.map((name) => ({ name, plan: variantPlanFrom({ ...a, variant: name }, profile) }))
    : [{ name: 'tree', plan: variantPlanFrom(a) }];
  if (profile && variants.length === 0) throw usageError(`--profile needs --variant (have: ${profile.variants.map((v) => v.name).join(', ')})`);
  const extraFragments = [...(targets ? selftestFragments(targets) : []), ...(profile?.fragments ?? []), ...a.fragment];
  await checkFragments([...kernels.map((k) => join(BASE_FRAGMENTS_DIR, k.arch.fragment)), ...extraFragments]);
  await checkProbes(probes ?? []);
  checkExecs(a.exec);
  const adds = await checkAdds(a.add);
  // A payload the guest could not start is bad input now, not "No such file or directory" after a build.
  const allProbes = probes ?? (await listProbes());
  for (const k of kernels) {
    // kselftest's install is not built yet: a command in it is checked when the image is made.
    const execs = targets ? a.exec.filter((e) => !(splitCommand(e)[0] ?? '').startsWith(`${KSELFTEST_GUEST_DIR}/`)) : a.exec;
    await planInitramfs({ arch: k.arch, probes: allProbes, abis: k.abis, probeTimeoutSec: a.probeTimeout, execs, execTimeoutSec: a.execTimeout, adds, shell: a.shell });
  }
  return {
    tree,
    baseFragmentsDir: BASE_FRAGMENTS_DIR,
    extraFragments,
    ...buildAndBootFrom(a, targets ? { ...SELFTESTS_VM, ...profile?.vm } : profile?.vm),
    ...(targets ? { selftests: { targets, maxTimeoutSec: a.execTimeout, ...(a.only ? { only: a.only } : {}) } } : {}),
    ...(probes ? { probes } : {}),
    ...(profile && profile.unprivileged.length > 0 ? { unprivileged: profile.unprivileged } : {}),
    variants,
    abis,
    adds,
    execs: a.exec,
    execTimeoutSec: a.execTimeout,
    ...(a.shell ? { shell: true } : {}),
  };
}

/**
 * results.json's `run`: the command line and run dir, then one kernel's record as is, or
 * `kernels` with one entry per kernel (its variant, arch and exit code first).
 */
export type RunJson = { command: string; runDir: string } & (Partial<RunRecord> & { kernels?: (Pick<KernelRun, 'variant' | 'arch' | 'exitCode'> & RunRecord)[] });

/** One kernel of several in results.json: variant, arch and exit code, then its record (a variant's record names it <label>/<name>). */
/** What KCIDB needs of one kernel's run, the patch files hashed. */
/** A kernel run as report/kcidb.ts takes it: its patch files hashed. */
export async function kcidbRun(r: KernelRun): Promise<KcidbRun> {
  const dir = join(r.runDir, 'patches');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.patch')).sort();
  const patches = await Promise.all(names.map(async (n) => ({ path: join(dir, n), sha256: await sha256File(join(dir, n)) })));
  const rec = r.record;
  const first = rec.applied?.[0]?.messageId;
  const build = rec.stages.find((s) => s.name === 'build');
  return {
    variant: r.variant, arch: r.arch, result: r.result, sourceIdentity: rec.sourceIdentity ?? rec.treeIdentity, buildKey: rec.buildKey, compiler: rec.compiler, tree: rec.tree,
    ...(rec.baseCommit ? { baseCommit: rec.baseCommit } : {}), patches, ...(first && !first.endsWith('@kseries.invalid') ? { messageId: first } : {}),
    ...(build && !rec.buildCacheHit ? { buildSeconds: build.ms / 1000 } : {}), accel: rec.accel,
  };
}

export function kernelEntry(r: KernelRun): NonNullable<RunJson['kernels']>[number] {
  const { arch, ...record } = r.record;
  return { variant: r.variant, arch, exitCode: r.exitCode, ...record };
}

/** results.json of a run that ended without results: an error, or Ctrl-C (with the stage it stopped). */
function noResultsJson(meta: RunJson, status: Status | 'USAGE', exitCode: number, error: string, extra: Record<string, unknown> = {}) {
  return { ...documentHeader('results'), run: meta, status, exitCode, error, ...extra, probes: [], findings: [] };
}

export async function runHandler(a: RunArgs, stages?: Partial<PipelineStages>): Promise<number> {
  const progress = new Progress(process.stderr, Boolean(process.stderr.isTTY));
  const request = await runRequestFrom(a);
  await checkOutputFiles(outputFiles(a));
  const runDir = await createRunDir(a.out);
  progress.stage('run', `artefacts in ${runDir}`);
  const meta: RunJson = { command: process.argv.slice(2).join(' '), runDir };
  // Ctrl-C still leaves results.json, saying where the run stopped (the exit is 130).
  const undo = onInterrupt((signal) => writeInterrupted(join(runDir, 'results.json'), signal, progress.current, { ...documentHeader('results'), run: meta, probes: [], findings: [] }));
  try {
    const outcome = await runVariants({ ...request, runDir, ...(stages ? { stages } : {}) }, progress);
    // One kernel: its metadata as is; several: one entry per kernel.
    Object.assign(meta, outcome.runs.length === 1 ? outcome.runs[0]!.record : { kernels: outcome.runs.map(kernelEntry) });
    progress.clearLive();
    const color = Boolean(process.stdout.isTTY);
    const out = jsonSink(a.json).screen;
    for (const r of outcome.runs) {
      if (outcome.runs.length > 1) out.write(`\n== ${r.variant} on ${r.arch} (${r.runDir})\n`);
      out.write(formatResultTable(r.result, { color }).join('\n') + '\n');
    }
    // One kernel: its table says it all; several: the matrix sets them side by side.
    if (outcome.runs.length > 1) out.write('\n' + formatMatrix(outcome.matrix).join('\n') + '\n');
    out.write(`elapsed: ${formatElapsed(sumStages(outcome.runs.flatMap((r) => r.stages)))}\n`);
    out.write(`results: ${runDir} (exit ${outcome.exitCode})\n`);
    await writeResults(runDir, a.json, outcome.merged, meta, { exitCode: outcome.exitCode, matrix: outcome.matrix });
    if (a.ktap) await writeFile(a.ktap, resultsKtap(outcome.merged));
    if (a.junit) {
      const several = outcome.perVariant.length > 1;
      await writeFile(a.junit, junitXml('kseries run', outcome.perVariant.flatMap((v) => resultsJunit(v.result.probes, several ? { variant: v.variant } : {}))));
    }
    if (a.kcidb) await writeFile(a.kcidb, jsonText(kcidbDocument(await Promise.all(outcome.runs.map(kcidbRun)))));
    if (a.html) await writeFile(a.html, htmlPage('kseries run', `${outcome.runs.length} kernel(s): ${[...new Set(outcome.runs.map((r) => r.variant))].join(', ')} · exit ${outcome.exitCode}`, [matrixSection(outcome.matrix)]));
    return outcome.exitCode;
  } catch (e) {
    // A stage killed by Ctrl-C fails too; the interrupt writes results.json then.
    if (wasInterrupted()) throw e;
    // Every failure still leaves results.json (with the error) beside the logs.
    const code = e instanceof KseriesError ? e.exitCode : ExitCode.INFRA;
    const json = noResultsJson(meta, code === ExitCode.USAGE ? 'USAGE' : 'INFRA', code, (e as Error).message);
    await writeFile(join(runDir, 'results.json'), jsonText(json)).catch(() => undefined);
    throw e;
  } finally {
    undo();
  }
}

/** Stage times added up by name, in first-seen order (several kernels in one run). */
function sumStages(stages: readonly Stage[]): Stage[] {
  const out: Stage[] = [];
  for (const s of stages) {
    const have = out.find((x) => x.name === s.name);
    if (have) have.ms += s.ms;
    else out.push({ ...s });
  }
  return out;
}

export const runCommandModule = exitCodeCommand('run', 'build a kernel, boot it in QEMU with the probes, and report', builder, (a: RunArgs) => runHandler(a));
