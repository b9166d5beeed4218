// Where the kernel source comes from: a checkout (git or plain), a pinned
// tarball (path or URL + sha256), or Debian's linux-source-6.1 by default.
// Each gives a source dir and an identity string used in cache keys.
import { createWriteStream, existsSync } from 'node:fs';
import { readFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve, basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { rememberedSha256 } from '../cache/file-hash.ts';
import { CacheStore } from '../cache/store.ts';
import { usageError, infraError } from '../util/errors.ts';
import { runGit } from '../util/git.ts';
import { sha256, sha256File } from '../util/hash.ts';
import { runCommand, type CommandRunner } from '../util/proc.ts';

export type TreeSpec =
  | { kind: 'dir'; path: string }
  | { kind: 'tarball'; location: string; sha256: string }
  | { kind: 'default' };

export interface SourceTree {
  srcDir: string;
  /** Stable identity of the sources, e.g. "git:<sha>", "tarball:<sha256>". */
  identity: string;
  /** Human description for summaries and reports. */
  describe: string;
  /** "6.1.158" from the top Makefile. */
  version: string;
  isGit: boolean;
}

/** Debian's kernel source package installs this tarball (package linux-source-6.1). */
export const DEBIAN_SOURCE_TARBALL = '/usr/src/linux-source-6.1.tar.xz';

/** Kernel version from the top-level Makefile's VERSION/PATCHLEVEL/SUBLEVEL/EXTRAVERSION. */
export function kernelVersionFromMakefile(makefile: string): string {
  const get = (k: string) => new RegExp(`^${k}[ \\t]*=[ \\t]*(.*)$`, 'm').exec(makefile)?.[1]?.trim() ?? '';
  const v = [get('VERSION'), get('PATCHLEVEL'), get('SUBLEVEL')].filter((x) => x !== '').join('.');
  return v + get('EXTRAVERSION');
}

async function readVersion(srcDir: string): Promise<string> {
  return kernelVersionFromMakefile(await readFile(join(srcDir, 'Makefile'), 'utf8'));
}

export interface TreeDeps {
  store: CacheStore;
  run?: CommandRunner;
  log?: (msg: string) => void;
  /** Overrides DEBIAN_SOURCE_TARBALL (tests). */
  defaultTarball?: string;
}

export async function resolveTree(spec: TreeSpec, deps: TreeDeps): Promise<SourceTree> {
  const run = deps.run ?? runCommand;
  if (spec.kind === 'dir') return resolveDir(resolve(spec.path), run);
  if (spec.kind === 'tarball') {
    const want = spec.sha256.toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(want)) throw usageError(`--sha256 must be 64 hex digits, got '${spec.sha256}'`);
    if (/^https?:\/\//.test(spec.location)) return unpackTarball(await download(spec.location, want, deps), want, `tarball ${basename(spec.location)}`, deps, run);
    // The file given is what gets verified, every time, even when its sha256 is already unpacked in the cache.
    const local = resolve(spec.location);
    if (!(await stat(local).catch(() => null))?.isFile()) throw usageError(`tarball ${local} does not exist or is not a file`);
    const actual = await sha256File(local).catch((e: Error) => {
      throw usageError(`cannot read tarball ${local}: ${e.message}`);
    });
    if (actual !== want) throw usageError(`sha256 mismatch for ${local}: expected ${want}, got ${actual}`);
    return unpackTarball(local, want, `tarball ${basename(spec.location)}`, deps, run);
  }
  const tarball = deps.defaultTarball ?? DEBIAN_SOURCE_TARBALL;
  if (!existsSync(tarball)) {
    throw infraError(`default tree ${tarball} is missing: run 'make deps' (apt-get install linux-source-6.1) or pass --tree/--tarball`);
  }
  const sum = await rememberedSha256(tarball, deps.store.dir('file-hashes'), () => deps.log?.(`hashing ${tarball} (once; remembered by inode, size and times)`));
  return unpackTarball(tarball, sum, `Debian ${basename(tarball)}`, deps, run);
}

async function resolveDir(dir: string, run: CommandRunner): Promise<SourceTree> {
  if (!existsSync(join(dir, 'Makefile')) || !existsSync(join(dir, 'Kconfig'))) {
    throw usageError(`--tree ${dir} is not a kernel source tree (no Makefile and Kconfig)`);
  }
  // make O= refuses a source tree that was configured or built in place.
  if (existsSync(join(dir, '.config')) || existsSync(join(dir, 'include/config/auto.conf'))) {
    throw usageError(`--tree ${dir} has been built in place; run 'make mrproper' there first (kseries builds out of tree)`);
  }
  const version = await readVersion(dir);
  const repo = await runGit(dir, ['rev-parse', '--show-toplevel', 'HEAD'], { run, config: 'plain' });
  const [top, head] = repo.stdout.trim().split('\n');
  if (repo.exitCode === 0 && head && top && resolve(top) === dir) {
    const diff = await runGit(dir, ['diff', 'HEAD', '--binary'], { run, config: 'plain', maxBuffer: 1 << 30 });
    const dirty = diff.stdout.length > 0;
    return {
      srcDir: dir,
      identity: dirty ? `git:${head}+dirty:${sha256(diff.stdout).slice(0, 16)}` : `git:${head}`,
      describe: `${dir} at ${head.slice(0, 12)}${dirty ? ' (with uncommitted changes)' : ''}`,
      version,
      isGit: true,
    };
  }
  // A plain tree: identify it by every file's path, size and mtime (cheap, and changes when a file does).
  const listing = await run('find', ['.', '-type', 'f', '-not', '-path', './.git/*', '-printf', '%P\t%s\t%T@\n'], {
    cwd: dir,
    maxBuffer: 1 << 30,
  });
  if (listing.exitCode !== 0) throw infraError(`cannot list ${dir}: ${listing.stderr.trim()}`);
  const lines = listing.stdout.split('\n').sort().join('\n');
  return { srcDir: dir, identity: `dir:${sha256(lines).slice(0, 32)}`, describe: `${dir} (plain tree)`, version, isGit: false };
}

async function unpackTarball(
  tarball: string,
  sum: string,
  describe: string,
  deps: TreeDeps,
  run: CommandRunner,
): Promise<SourceTree> {
  // The caller has verified that `tarball` has this sha256.
  const produced = await deps.store.produce('trees', sum, async (tmp) => {
    deps.log?.(`unpacking ${tarball} (once; cached)`);
    const r = await run('tar', ['-xf', tarball, '-C', tmp, '--strip-components=1']);
    if (r.exitCode !== 0) throw infraError(`cannot unpack ${tarball}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
  });
  return { srcDir: produced.path, identity: `tarball:${sum}`, describe, version: await readVersion(produced.path), isGit: false };
}

async function download(url: string, sum: string, deps: TreeDeps): Promise<string> {
  const dir = deps.store.dir('downloads');
  const dest = join(dir, `${sum}-${basename(new URL(url).pathname)}`);
  if (existsSync(dest)) {
    if ((await sha256File(dest)) === sum) return dest;
    deps.log?.(`${dest} does not match its sha256; downloading it again`);
    await rm(dest, { force: true });
  }
  await mkdir(dir, { recursive: true });
  deps.log?.(`downloading ${url}`);
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw infraError(`cannot download ${url}: ${(e as Error).message}`);
  }
  if (!res.ok || !res.body) throw infraError(`cannot download ${url}: HTTP ${res.status}`);
  const part = `${dest}.part-${process.pid}`;
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(part));
  const actual = await sha256File(part);
  if (actual !== sum) {
    await rm(part, { force: true });
    throw usageError(`sha256 mismatch for ${url}: expected ${sum}, got ${actual}`);
  }
  await rename(part, dest);
  return dest;
}

/** The tree as a reply on the list names it: by version and commit (or tarball), never by a local path. */
export function publicTreeName(tree: Pick<SourceTree, 'describe' | 'version'>): string {
  const git = /^\/.* at ([0-9a-f]{12})(.*)$/.exec(tree.describe);
  if (git) return `Linux ${tree.version} at ${git[1]}${git[2]}`;
  if (tree.describe.startsWith('/')) return `Linux ${tree.version}, a source tree without git history`;
  return `${tree.describe}, Linux ${tree.version}`;
}
