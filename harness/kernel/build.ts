// Build stage: out-of-tree make with ccache, cached under a key of tree
// identity + applied patches + requested config + compiler + arch.
import { createWriteStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { CacheStore } from '../cache/store.ts';
import type { ArchDef } from '../model/arch.ts';
import { buildFailure, infraError } from '../util/errors.ts';
import { sha256 } from '../util/hash.ts';
import { runCommand, spawn, type CommandRunner } from '../util/proc.ts';
import { buildErrorLines, isObjectLine } from './build-log.ts';
import { configureKernel, makeArgv } from './configure.ts';
import { checkManifest } from '../cache/manifest.ts';
import { buildFamily, configInputsHash, copyBuildDir, findSeed, gitTreeOf, type SeedCandidate } from './seed.ts';
import { formatKconfig, type Kconfig } from './kconfig.ts';
import { payloadMismatch, payloadObject } from './payload.ts';
import type { SourceTree } from './tree.ts';

/** Bump when the way a build dir is produced changes, so old entries are not reused. */
const RECIPE = 'kseries-build-1';

export interface BuildRequest {
  tree: SourceTree;
  arch: ArchDef;
  requested: Kconfig;
  store: CacheStore;
  /** Where build.log goes (the run directory). */
  logPath: string;
  jobs?: number;
  /** Build again even when the same sources, config and compiler failed to compile before. */
  retryFailed?: boolean;
  onObjects?: (built: number) => void;
  log?: (msg: string) => void;
}

export interface BuildResult {
  key: string;
  cacheHit: boolean;
  /** The cache entry: build/ (the O= dir), config, build.log, entry.json, manifest.json (the image and config, checked on every hit). */
  entryDir: string;
  buildDir: string;
  kernelImage: string;
  configText: string;
  compiler: string;
  configMs: number;
  buildMs: number;
  /** make arguments after `make -C SRC O=BUILD ARCH=..`, and its environment, for reproducer.sh. */
  buildArgs: string[];
  buildEnv: Record<string, string>;
}

export interface BuildKeyInputs {
  /** The sources built, patches included (a variant's worktree has its own identity). */
  treeIdentity: string;
  arch: string;
  requestedConfig: string;
  compiler: string;
}

/** Pure: the cache key of a build. Any input changing gives a new key. */
export function buildKey(i: BuildKeyInputs): string {
  // '' stands where a separate identity of the patches once went: the keys of existing cache entries stay valid.
  return sha256(RECIPE, i.treeIdentity, '', i.arch, i.requestedConfig, i.compiler).slice(0, 24);
}

export async function compilerVersion(run: CommandRunner = runCommand): Promise<string> {
  const r = await run('gcc', ['--version']);
  if (r.exitCode !== 0) throw infraError('gcc not found: run make deps');
  return r.stdout.split('\n')[0]!.trim();
}

async function hasCcache(run: CommandRunner): Promise<boolean> {
  return (await run('ccache', ['--version'])).exitCode === 0;
}

export async function buildKernel(req: BuildRequest, run: CommandRunner = runCommand): Promise<BuildResult> {
  const compiler = await compilerVersion(run);
  const requestedText = formatKconfig(req.requested);
  const key = buildKey({
    treeIdentity: req.tree.identity,
    arch: req.arch.name,
    requestedConfig: requestedText,
    compiler,
  });
  const failed = failurePath(req.store, key);
  if (!req.retryFailed) {
    const before = await readFile(failed, 'utf8').then((t) => JSON.parse(t) as FailureRecord, () => undefined);
    if (before) {
      await writeFile(req.logPath, `kseries: this build failed before (${before.at}) with the same sources, config and compiler; --retry-failed builds it again\n${before.errors.join('\n')}\n`);
      req.log?.(`failed before with the same sources, config and compiler (${before.at}): not built again (--retry-failed builds it)`);
      throw buildFailure(`kernel build failed (make exit ${before.exitCode}, remembered from ${before.at}; --retry-failed builds it again); see ${req.logPath}`, before.errors.join('\n'));
    }
  }
  const plan = await makePlan(req.tree.srcDir, req.arch, { jobs: req.jobs, ccacheRoot: req.store.root }, run);
  let configMs = 0;
  let buildMs = 0;
  const entryName = (d: string) => join(d, 'build');
  // An entry is used (as a hit or as a seed) only when its image is as published and holds its own kernel.
  const entryUnusable = async (d: string) => (await checkManifest(d)) ?? (await payloadMismatch(entryName(d), req.arch));

  const family = buildFamily({ srcDir: req.tree.srcDir, arch: req.arch.name, requestedConfig: requestedText, compiler });
  const sourceTree = gitTreeOf(req.tree.identity);
  let seed: SeedCandidate | null = null;
  let configInputs: string | null = null;

  const produced = await req.store.produce('builds', key, async (tmp) => {
    // Every build of a family runs at one stable O= path: kbuild and objtool
    // record absolute object paths, and a moved build dir recompiles everything.
    // The finished dir is then moved into the entry, so entries stay immutable.
    const workName = `${family}.work`;
    const work = req.store.entryPath('builds', workName);
    await req.store.withLock('builds', workName, async () => {
      try {
        const buildDir = entryName(work);
        await rm(work, { recursive: true, force: true });
        await mkdir(work, { recursive: true });
        const t0 = Date.now();
        configInputs = sourceTree ? await configInputsHash(run, req.tree.srcDir, sourceTree, req.arch.name, requestedText) : null;
        // Only a verified entry seeds: a damaged image must not be carried over.
        seed = sourceTree ? await findSeed({ store: req.store, family, sourceTree, repoDir: req.tree.srcDir, run, isUsable: async (d) => (await entryUnusable(d)) === null }) : null;
        if (seed) {
          req.log?.(`starting from the build dir of ${seed.record.key} (${seed.distance} source file(s) differ)`);
          await copyBuildDir(entryName(seed.dir), buildDir, run);
        } else {
          await mkdir(buildDir, { recursive: true });
        }
        if (seed && configInputs !== null && seed.record.configInputs === configInputs) {
          req.log?.(`config inputs unchanged: keeping ${seed.record.key}'s .config`);
        } else {
          req.log?.(`configuring ${req.arch.name} (tinyconfig + ${req.requested.size} requested options)`);
          const configured = await configureKernel({ srcDir: req.tree.srcDir, buildDir, arch: req.arch, requested: req.requested }, run);
          for (const [asked, used] of configured.renamed) req.log?.(`config: this tree names ${asked} ${used} (its older name): requested as ${used}`);
        }
        configMs = Date.now() - t0;
        req.log?.(`building ${req.arch.imageTarget} with ${plan.buildArgs.slice(0, -1).join(' ')}${plan.env.CCACHE_DIR ? '' : ' (ccache missing: cold build)'}`);
        const entryLog = join(tmp, 'build.log');
        const made = await makeKernelImage(plan, buildDir, entryLog, req.onObjects);
        buildMs = made.ms;
        await copyFile(entryLog, req.logPath);
        if (made.exitCode !== 0) {
          const errors = buildErrorLines(await readFile(entryLog, 'utf8'));
          if (isCompileError(errors)) await rememberFailure(failed, { at: new Date().toISOString(), exitCode: made.exitCode, errors });
          throw buildFailure(`kernel build failed (make exit ${made.exitCode}); see ${req.logPath}`, errors.join('\n'));
        }
        buildMs += await ensurePayload(plan, buildDir, entryLog, req.log);
        await copyFile(entryLog, req.logPath);
        await rename(buildDir, entryName(tmp));
      } finally {
        await rm(work, { recursive: true, force: true }); // inside the lock: the next build owns it after
      }
    });
    const buildDir = entryName(tmp);
    await copyFile(join(buildDir, '.config'), join(tmp, 'config'));
    await writeFile(
      join(tmp, 'entry.json'),
      JSON.stringify(
        {
          key, tree: req.tree.identity, patches: '', arch: req.arch.name, compiler, configMs, buildMs, at: new Date().toISOString(),
          family, ...(sourceTree ? { sourceTree } : {}), ...(configInputs !== null ? { configInputs } : {}), ...(seed ? { seededFrom: seed.record.key, seedDistance: seed.distance } : {}),
        },
        null,
        2,
      ),
    );
    // make can exit 0 without the image (a target that is not the image): say so, not ENOENT later.
    if (!existsSync(join(buildDir, req.arch.image))) throw infraError(`make ${req.arch.imageTarget} succeeded but ${req.arch.image} was not produced; see ${req.logPath}`);
  }, { artefacts: [`build/${req.arch.image}`, 'config'], verify: entryUnusable });

  const buildDir = entryName(produced.path);
  if (req.retryFailed) await rm(failed, { force: true }); // it builds now: forget the old failure
  if (produced.hit) {
    const prev = await readFile(join(produced.path, 'build.log'), 'utf8').catch(() => '');
    await writeFile(req.logPath, `kseries: build cache hit ${produced.path}; the log of the build that made it follows\n${prev}`);
  }
  const configText = await readFile(join(produced.path, 'config'), 'utf8');
  return {
    key,
    cacheHit: produced.hit,
    entryDir: produced.path,
    buildDir,
    kernelImage: join(buildDir, req.arch.image),
    configText,
    compiler,
    configMs,
    buildMs,
    buildArgs: plan.buildArgs,
    buildEnv: plan.env,
  };
}

/** Where a remembered compile failure of build `key` is kept. */
export const failurePath = (store: CacheStore, key: string) => join(store.dir('build-failures'), `${key}.json`);

/** Was build `key` rejected by the compiler before (and so fails at once, without building)? */
export const failedBefore = (store: CacheStore, key: string) => existsSync(failurePath(store, key));

interface FailureRecord {
  at: string;
  exitCode: number;
  errors: string[];
}

/**
 * A failure worth remembering: the compiler rejected the sources (a "file.c:12:3: error:" line),
 * not the machine (killed, out of space, an internal compiler error). Only those are the same next time.
 */
export function isCompileError(errors: readonly string[]): boolean {
  const machine = /No space left|Killed|Segmentation fault|internal compiler error|Cannot allocate memory/;
  return errors.some((l) => /\.[chS]:\d+(:\d+)?: (fatal )?error: /.test(l)) && !errors.some((l) => machine.test(l));
}

async function rememberFailure(path: string, rec: FailureRecord): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(rec, null, 2) + '\n');
  await rename(tmp, path);
}

/** How to run make for the image: arguments after `make -C SRC O= ARCH=`, and the environment. */
export interface MakePlan {
  srcDir: string;
  arch: ArchDef;
  buildArgs: string[];
  env: Record<string, string>;
}

export interface MakeOptions {
  jobs?: number;
  /** ccache lives under this root (shared by every build using it); null disables ccache. */
  ccacheRoot: string | null;
}

export async function makePlan(srcDir: string, arch: ArchDef, o: MakeOptions, run: CommandRunner = runCommand): Promise<MakePlan> {
  const ccache = o.ccacheRoot !== null && (await hasCcache(run));
  // CCACHE_BASEDIR makes paths under the cache root relative, so trees and
  // build dirs at different places in it still share compiled objects.
  // CCACHE_NODEPEND: depend mode never sees piggy.S's .incbin and returns a stale
  // piggy.o (a kernel image holding another kernel), even when the user's
  // environment or ccache.conf asks for it; see payload.ts.
  const env: Record<string, string> = ccache ? { CCACHE_DIR: join(o.ccacheRoot!, 'ccache'), CCACHE_BASEDIR: o.ccacheRoot!, CCACHE_NODEPEND: '1' } : {};
  const jobs = o.jobs ?? availableParallelism();
  return { srcDir, arch, env, buildArgs: [`-j${jobs}`, ...(ccache ? ['CC=ccache gcc'] : []), arch.imageTarget] };
}

/**
 * After a successful make: when the image does not hold the kernel just built
 * (ccache returned an older piggy.o, see payload.ts), delete that object and
 * make again with ccache off for the run. Returns the extra make time; throws
 * when the image still does not hold the kernel.
 */
export async function ensurePayload(plan: MakePlan, buildDir: string, logPath: string, log?: (msg: string) => void): Promise<number> {
  const why = await payloadMismatch(buildDir, plan.arch);
  if (why === null) return 0;
  const obj = payloadObject(plan.arch);
  log?.(`${why}; making ${obj} again without ccache`);
  await rm(join(buildDir, obj), { force: true });
  const again = await makeKernelImage({ ...plan, env: { ...plan.env, CCACHE_DISABLE: '1' } }, buildDir, logPath, undefined, true);
  if (again.exitCode !== 0) throw infraError(`make ${plan.arch.imageTarget} failed (exit ${again.exitCode}) when making ${obj} again without ccache; see ${logPath}`);
  const still = await payloadMismatch(buildDir, plan.arch);
  if (still !== null) throw infraError(`the image does not hold the kernel just built, even with ${obj} made without ccache: ${still}`);
  return again.ms;
}

/** make the kernel image in an already configured build dir. */
export async function makeKernelImage(
  plan: MakePlan,
  buildDir: string,
  logPath: string,
  onObjects?: (n: number) => void,
  appendLog = false,
): Promise<{ exitCode: number; ms: number }> {
  const t0 = Date.now();
  const exitCode = await runMake([...makeArgv(plan.srcDir, buildDir, plan.arch), ...plan.buildArgs], plan.env, logPath, onObjects, appendLog);
  return { exitCode, ms: Date.now() - t0 };
}

/** Run make, teeing everything to the log and counting built objects for the progress line. */
async function runMake(argv: string[], env: Record<string, string>, logPath: string, onObjects?: (n: number) => void, appendLog = false): Promise<number> {
  const [file, ...args] = argv;
  const out = createWriteStream(logPath, { flags: appendLog ? 'a' : 'w' });
  const p = spawn(file!, args, { env: { ...process.env, ...env }, all: true, buffer: false, stdin: 'ignore' });
  let built = 0;
  const rl = createInterface({ input: p.all! });
  const closed = new Promise<void>((res) => rl.once('close', () => res()));
  rl.on('line', (line) => {
    out.write(line + '\n');
    if (isObjectLine(line)) onObjects?.(++built);
  });
  const r = await p;
  await closed;
  await new Promise<void>((res) => out.end(() => res()));
  if (r.exitCode === undefined) {
    if (r.isTerminated) return 130;
    throw infraError(`cannot run make: ${r.shortMessage}`);
  }
  return r.exitCode;
}
