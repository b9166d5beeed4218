// Option groups shared by the commands that build and boot a kernel.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv } from 'yargs';
import { defaultCacheRoot } from '../cache/store.ts';
import { parseKconfigArg } from '../kernel/kconfig.ts';
import type { TreeSpec } from '../kernel/tree.ts';
import { usageError } from '../util/errors.ts';

export const REPO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BASE_FRAGMENTS_DIR = join(REPO_DIR, 'patches', 'base');

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
    .option('kconfig', { type: 'string', array: true, default: [] as string[], group: 'Config:', describe: 'extra option, CONFIG_X=y (repeatable)' })
    .option('fragment', { type: 'string', array: true, default: [] as string[], group: 'Config:', describe: 'extra config fragment file (repeatable)' })
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
