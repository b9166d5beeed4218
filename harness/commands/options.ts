// Option groups shared by the commands that build and boot a kernel.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { defaultCacheRoot } from '../cache/store.ts';
import { parseKconfigArg } from '../kernel/kconfig.ts';
import type { TreeSpec } from '../kernel/tree.ts';
import type { AccelChoice } from '../qemu/accel.ts';
import { mergeVm, type VmOverrides, type VmSpec } from '../qemu/vm.ts';
import { usageError } from '../util/errors.ts';
import { PATCHES_DIR } from '../util/paths.ts';
import { RUN_DIR_DEFAULT } from '../run/rundir.ts';

export const BASE_FRAGMENTS_DIR = join(PATCHES_DIR, 'base');

/** A flag that may be repeated, one value each time (yargs arrays would swallow positionals). */
export function repeatable(describe: string, group?: string) {
  return {
    type: 'string' as const,
    describe: `${describe} (repeatable)`,
    default: [] as string[],
    coerce: (x: unknown): string[] => (x === undefined ? [] : Array.isArray(x) ? x.map(String) : [String(x)]),
    ...(group ? { group } : {}),
  };
}

/** Longest per-entry timeout the guest init accepts (images/init-plan.c parse_line). */
export const MAX_ENTRY_TIMEOUT_SEC = 24 * 3600;
/** Longest --boot-timeout: a week, far below what a Node timer can wait (2^31 ms). */
export const MAX_BOOT_TIMEOUT_SEC = 7 * 24 * 3600;

/**
 * Check one whole-number option value: NaN, fractions, 0 or negatives and values past max are
 * usage errors. yargs reports what a coerce throws through .fail (cli.ts), as exit 2.
 * Given twice, the last value wins.
 */
export function wholeNumber(flag: string, x: unknown, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const v = Array.isArray(x) ? x[x.length - 1] : x;
  const s = String(v).trim();
  const n = /^\d+$/.test(s) ? Number(s) : NaN;
  if (!(n >= min && n <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new Error(`--${flag} needs a whole number ${range}, got '${s}'`);
  }
  return n;
}

/**
 * Every numeric option of every command is declared through this, so all are checked alike
 * before anything runs. No yargs `type: 'number'`: it turns 'abc' into NaN and hides what was typed.
 */
export function countOption(flag: string, describe: string, o: CountOpts & { default: number }): CountOption & { default: number };
export function countOption(flag: string, describe: string, o?: CountOpts): CountOption;
export function countOption(flag: string, describe: string, o: CountOpts & { default?: number } = {}): CountOption {
  return {
    describe,
    requiresArg: true,
    ...(o.group ? { group: o.group } : {}),
    ...(o.default !== undefined ? { default: o.default } : {}),
    coerce: (x: unknown): number => wholeNumber(flag, x, o.min, o.max),
  };
}
interface CountOpts {
  group?: string;
  min?: number;
  max?: number;
}
interface CountOption {
  describe: string;
  requiresArg: true;
  group?: string;
  coerce: (x: unknown) => number;
}

export function treeOptions<T>(y: Argv<T>) {
  return y
    .option('tree', { type: 'string', group: 'Kernel source:', describe: 'kernel checkout (git or plain source dir)' })
    .option('tarball', { type: 'string', group: 'Kernel source:', describe: 'kernel tarball, path or https URL (needs --sha256)' })
    .option('sha256', { type: 'string', group: 'Kernel source:', describe: 'sha256 pinning --tarball' })
    .conflicts('tree', 'tarball')
    .option('cache', { type: 'string', group: 'Kernel source:', describe: 'cache directory', default: defaultCacheRoot(), defaultDescription: '$XDG_CACHE_HOME/kseries' });
}

export function treeSpecFrom(a: { tree?: string; tarball?: string; sha256?: string }): TreeSpec {
  if (a.tree) {
    // Said here, before tree resolution, so a typo is not reported as "not a kernel source tree".
    if (!existsSync(a.tree)) throw usageError(`--tree ${a.tree} does not exist`);
    return { kind: 'dir', path: a.tree };
  }
  if (a.tarball) {
    if (!a.sha256) throw usageError('--tarball needs --sha256');
    return { kind: 'tarball', location: a.tarball, sha256: a.sha256 };
  }
  if (a.sha256) throw usageError('--sha256 needs --tarball');
  return { kind: 'default' };
}

export function configOptions<T>(y: Argv<T>) {
  return y
    .option('kconfig', repeatable('extra option, CONFIG_X=y', 'Config:'))
    .option('fragment', repeatable('extra config fragment file', 'Config:'))
    .option('jobs', { alias: 'j', ...countOption('jobs', 'make -j (default: number of cores)', { group: 'Config:' }) })
    .option('retry-failed', { type: 'boolean', default: false, group: 'Config:', describe: 'build again what failed to compile before with the same sources, config and compiler' });
}

function parseKconfigArgs(args: string[]): [string, string][] {
  return args.map((a) => {
    try {
      return parseKconfigArg(a);
    } catch (e) {
      throw usageError((e as Error).message);
    }
  });
}

/** Where Message-IDs are looked up: mboxes, maildirs, public-inbox archives, lore. */
export function mailSourceOptions<T>(y: Argv<T>) {
  return y
    .option('mbox', repeatable('look up Message-IDs in this mbox (.gz ok)', 'Series:'))
    .option('maildir', repeatable('look up Message-IDs in this maildir', 'Series:'))
    .option('inbox', repeatable('look up Message-IDs in this public-inbox git archive', 'Series:'))
    .option('lore', { type: 'boolean', default: true, group: 'Series:', describe: 'fetch from lore.kernel.org when no source has the Message-ID (--no-lore to forbid)' });
}

/** `profile: false` for a command that takes the profile as its positional (claims): not shown twice. */
export function seriesOptions<T>(y: Argv<T>, o: { profile?: boolean } = {}) {
  const withProfile = o.profile === false ? y : y.option('profile', { type: 'string', group: 'Series:', describe: 'profile directory (patches/<name>) or name' });
  return mailSourceOptions(withProfile)
    .option('variant', { type: 'string', group: 'Series:', describe: "the profile's variant(s) to use, comma-separated" })
    .option('series', { type: 'string', group: 'Series:', describe: 'Message-ID of any message of a series' })
    .option('revision', { alias: 'v', ...countOption('revision', 'series revision (default: the latest found)', { group: 'Series:' }) })
    .option('select', { alias: 'P', type: 'string', group: 'Series:', describe: 'patches to keep, e.g. 1-3,5' })
    .option('drop', { ...repeatable('patch number to leave out', 'Series:'), coerce: (x: unknown): number[] => (x === undefined ? [] : ([] as unknown[]).concat(x).map((d) => wholeNumber('drop', d))), default: [] as number[] })
    .option('patches', { type: 'string', group: 'Series:', describe: 'a directory of .patch files' })
    .option('range', { type: 'string', group: 'Series:', describe: "commits A..B of the tree's history, re-applied onto A" })
    .option('base', { type: 'string', group: 'Series:', describe: "revision of --tree to apply onto (default: the series' base-commit: when the tree has it, else HEAD)" })
    .option('guess-base', { type: 'boolean', default: false, group: 'Series:', describe: "without a usable base-commit:, find the base from the patches' index lines (as b4 does)" })
    .option('allow-misplaced', { type: 'boolean', default: false, group: 'Series:', describe: 'accept fuzzed hunks that land in another function' });
}

/** --out DIR: where the command's artefacts go; the default is named as createRunDir() makes it. */
export function outOption(describe: string, group = 'Output:', defaultDescription = RUN_DIR_DEFAULT) {
  return { type: 'string' as const, describe, group, defaultDescription };
}

/** --ktap FILE: kseries' own answer as a KTAP v1 document (report/ktap.ts), to nest under a kselftest runner or KernelCI. */
export function ktapOption(describe = "kseries' own result as a KTAP v1 document to FILE, to nest under kselftest or KernelCI") {
  return { type: 'string' as const, nargs: 1, describe, group: 'Output:' };
}

/** --junit FILE: the answer as JUnit XML (report/junit.ts), for CI test reports, as kunit.py and tuxrun offer. */
export function junitOption(describe = 'the result as JUnit XML to FILE, for CI test reports (one testsuite per probe, one testcase per case)') {
  return { type: 'string' as const, nargs: 1, describe, group: 'Output:' };
}

/** --html FILE: one self-contained page to look at (report/html.ts). */
export function htmlOption(describe: string) {
  return { type: 'string' as const, nargs: 1, describe, group: 'Output:' };
}

/** --json FILE or '-' (stdout): see jsonSink in output.ts. Under "Output:" in every command. */
export function jsonOption(describe: string, group = 'Output:') {
  return { type: 'string' as const, nargs: 1, describe, group };
}

/**
 * A command whose handler returns its exit code. The builder is typed by the command
 * (its arguments are the handler's), the root only registers it.
 */
export function exitCodeCommand<A>(command: string, describe: string, builder: (y: Argv) => Argv<unknown>, handler: (a: A) => Promise<number>): CommandModule {
  return {
    command,
    describe,
    builder,
    handler: async (a) => {
      process.exitCode = await handler(a as unknown as A);
    },
  };
}

/** --profile takes a directory, or the name of one shipped under patches/. */
export function profilePath(ref: string): string {
  return existsSync(ref) || ref.includes('/') ? ref : join(PATCHES_DIR, ref);
}

/** How to boot: shared by run, bisect and claims. */
export function bootOptions<T>(y: Argv<T>) {
  return y
    .option('accel', { choices: ['auto', 'kvm', 'tcg'] as const, default: 'auto' as const, group: 'Boot:', describe: 'QEMU accelerator' })
    .option('probe-timeout', countOption('probe-timeout', 'seconds per probe', { default: 60, group: 'Boot:', max: MAX_ENTRY_TIMEOUT_SEC }))
    .option('boot-timeout', countOption('boot-timeout', 'overall seconds before the boot counts as hung', { default: 900, group: 'Boot:', max: MAX_BOOT_TIMEOUT_SEC }))
    .option('smp', countOption('smp', 'virtual CPUs (default 1; more asks the kernel config for CONFIG_SMP=y)', { group: 'Boot:', max: 64 }))
    .option('memory', countOption('memory', 'guest memory in MiB (default 512)', { group: 'Boot:', min: 64, max: 16384 }))
    .option('cpu', { type: 'string', requiresArg: true, group: 'Boot:', describe: "QEMU CPU model, e.g. max (qemu64, the default, has no xsave); checked against qemu's -cpu help" })
    .option('qemu-arg', repeatable('one more QEMU argument after the machine\'s own, e.g. a -device', 'Boot:'))
    .option('append', repeatable('words for the guest kernel command line', 'Boot:'));
}

/** The VM of a run: the profile's "vm", then the command line's flags, field by field. */
export function vmFrom(a: { smp?: number | undefined; memory?: number | undefined; cpu?: string | undefined; qemuArg?: string[]; append?: string[] }, profileVm?: VmOverrides): VmSpec {
  const cli: VmOverrides = {
    ...(a.smp !== undefined ? { smp: a.smp } : {}),
    ...(a.memory !== undefined ? { memoryMb: a.memory } : {}),
    ...(a.cpu !== undefined ? { cpu: a.cpu } : {}),
    qemuArgs: a.qemuArg ?? [],
    cmdline: (a.append ?? []).flatMap((w) => w.split(/\s+/).filter(Boolean)),
  };
  return mergeVm(profileVm, cli);
}

/** The pipeline options that come straight from the config and boot flags. */
export function buildAndBootFrom(
  a: { kconfig: string[]; cache: string; accel: string; probeTimeout: number; bootTimeout: number; jobs?: number | undefined; retryFailed?: boolean } & Parameters<typeof vmFrom>[0],
  profileVm?: VmOverrides,
) {
  return {
    vm: vmFrom(a, profileVm),
    kconfig: parseKconfigArgs(a.kconfig),
    accel: a.accel as AccelChoice,
    cacheRoot: a.cache,
    probeTimeoutSec: a.probeTimeout,
    bootTimeoutSec: a.bootTimeout,
    ...(a.jobs ? { jobs: a.jobs } : {}),
    ...(a.retryFailed ? { retryFailed: true } : {}),
  };
}
