// Option groups shared by the commands that build and boot a kernel.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { defaultCacheRoot } from '../cache/store.ts';
import { parseKconfigArg } from '../kernel/kconfig.ts';
import type { TreeSpec } from '../kernel/tree.ts';
import type { AccelChoice } from '../qemu/accel.ts';
import { usageError } from '../util/errors.ts';
import { PACKAGE_ROOT, PATCHES_DIR } from '../util/paths.ts';

export const REPO_DIR = PACKAGE_ROOT;
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

export function treeOptions<T>(y: Argv<T>) {
  return y
    .option('tree', { type: 'string', group: 'Kernel source:', describe: 'kernel checkout (git or plain source dir)' })
    .option('tarball', { type: 'string', group: 'Kernel source:', describe: 'kernel tarball, path or https URL (needs --sha256)' })
    .option('sha256', { type: 'string', group: 'Kernel source:', describe: 'sha256 pinning --tarball' })
    .conflicts('tree', 'tarball')
    .option('cache', { type: 'string', group: 'Kernel source:', describe: 'cache directory', default: defaultCacheRoot(), defaultDescription: '$XDG_CACHE_HOME/kseries' });
}

export function treeSpecFrom(a: { tree?: string; tarball?: string; sha256?: string }): TreeSpec {
  if (a.tree) return { kind: 'dir', path: a.tree };
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
    .option('jobs', { alias: 'j', type: 'number', group: 'Config:', describe: 'make -j (default: number of cores)' });
}

export function parseKconfigArgs(args: string[]): [string, string][] {
  return args.map((a) => {
    try {
      return parseKconfigArg(a);
    } catch (e) {
      throw usageError((e as Error).message);
    }
  });
}

export function seriesOptions<T>(y: Argv<T>) {
  return y
    .option('profile', { type: 'string', group: 'Series:', describe: 'profile directory (patches/<name>) or name' })
    .option('variant', { type: 'string', group: 'Series:', describe: "the profile's variant(s) to use, comma-separated" })
    .option('series', { type: 'string', group: 'Series:', describe: 'Message-ID of any message of a series' })
    .option('revision', { alias: 'v', type: 'number', group: 'Series:', describe: 'series revision (default: the latest found)' })
    .option('select', { alias: 'P', type: 'string', group: 'Series:', describe: 'patches to keep, e.g. 1-3,5' })
    .option('drop', { ...repeatable('patch number to leave out', 'Series:'), coerce: (x: unknown): number[] => (x === undefined ? [] : ([] as unknown[]).concat(x).map(Number)), default: [] as number[] })
    .option('mbox', repeatable('look up Message-IDs in this mbox (.gz ok)', 'Series:'))
    .option('maildir', repeatable('look up Message-IDs in this maildir', 'Series:'))
    .option('inbox', repeatable('look up Message-IDs in this public-inbox git archive', 'Series:'))
    .option('lore', { type: 'boolean', default: true, group: 'Series:', describe: 'fetch from lore.kernel.org when no source has the Message-ID (--no-lore to forbid)' })
    .option('patches', { type: 'string', group: 'Series:', describe: 'a directory of .patch files' })
    .option('range', { type: 'string', group: 'Series:', describe: "commits A..B of the tree's history, re-applied onto A" })
    .option('base', { type: 'string', group: 'Series:', describe: 'revision of --tree to apply onto (default HEAD)' })
    .option('allow-misplaced', { type: 'boolean', default: false, group: 'Series:', describe: 'accept fuzzed hunks that land in another function' });
}

/** --profile takes a directory, or the name of one shipped under patches/. */
export function profilePath(ref: string): string {
  return existsSync(ref) || ref.includes('/') ? ref : join(PATCHES_DIR, ref);
}

/** How to boot: shared by run, bisect and claims. */
export function bootOptions<T>(y: Argv<T>) {
  return y
    .option('accel', { choices: ['auto', 'kvm', 'tcg'] as const, default: 'auto' as const, group: 'Boot:', describe: 'QEMU accelerator' })
    .option('probe-timeout', { type: 'number', default: 60, group: 'Boot:', describe: 'seconds per probe' })
    .option('boot-timeout', { type: 'number', default: 900, group: 'Boot:', describe: 'overall seconds before the boot counts as hung' });
}

/** The pipeline options that come straight from the config and boot flags. */
export function buildAndBootFrom(a: { kconfig: string[]; cache: string; accel: string; probeTimeout: number; bootTimeout: number; jobs?: number | undefined }) {
  return {
    kconfig: parseKconfigArgs(a.kconfig),
    patchesId: '',
    accel: a.accel as AccelChoice,
    cacheRoot: a.cache,
    probeTimeoutSec: a.probeTimeout,
    bootTimeoutSec: a.bootTimeout,
    ...(a.jobs ? { jobs: a.jobs } : {}),
  };
}
