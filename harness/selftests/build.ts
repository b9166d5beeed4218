// Build and install kselftest targets from the tree under test, the way
// kselftest documents it: `make headers` into a separate output directory,
// then `make -C tools/testing/selftests O=... TARGETS=... install`, which
// writes run_kselftest.sh, kselftest-list.txt and one directory per target.
// The x86 target builds its _32 and _64 programs itself. The tests are
// linked as their Makefiles say (mostly dynamically): the initramfs stage
// adds their interpreters and libraries. Cached by the tree's identity, the
// targets, the arch and the compiler; the source tree is not written to.
import { existsSync } from 'node:fs';
import { appendFile, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CacheStore } from '../cache/store.ts';
import type { ArchDef } from '../model/arch.ts';
import { infraError, usageError } from '../util/errors.ts';
import { sha256 } from '../util/hash.ts';
import { runCommand, type CommandRunner } from '../util/proc.ts';
import { parseSettings, parseTestList, type SelftestCase } from './plan.ts';

/** Bumped when the recipe below changes what an entry holds. */
const RECIPE = 'kselftest-install-1';

export const SELFTESTS_DIR = 'tools/testing/selftests';

export interface SelftestsRequest {
  srcDir: string;
  /** The tree's identity with its patches (the kernel build's source identity). */
  sourceIdentity: string;
  arch: ArchDef;
  targets: string[];
  compiler: string;
  store: CacheStore;
  jobs: number;
  logPath: string;
  log?: (m: string) => void;
}

export interface SelftestsBuild {
  /** The install directory (what goes to /kselftest in the guest). */
  installDir: string;
  cacheHit: boolean;
  cases: SelftestCase[];
  /** Collection → settings timeout. */
  timeouts: Map<string, number>;
}

/** Bad target names are usage errors before anything is built. */
export function checkTargets(srcDir: string, targets: readonly string[]): void {
  const root = join(srcDir, SELFTESTS_DIR);
  if (!existsSync(join(root, 'Makefile'))) throw usageError(`this tree has no ${SELFTESTS_DIR}/Makefile`);
  const unknown = targets.filter((t) => !/^[A-Za-z0-9_][A-Za-z0-9_./-]*$/.test(t) || t.includes('..') || !existsSync(join(root, t, 'Makefile')));
  if (unknown.length > 0) throw usageError(`no kselftest target ${unknown.join(', ')} in ${SELFTESTS_DIR} (a target is a directory there with a Makefile)`);
}

/** The target's own kernel config fragment (tools/testing/selftests/<target>/config), if it has one. */
export function targetFragments(srcDir: string, targets: readonly string[]): string[] {
  return targets.map((t) => join(srcDir, SELFTESTS_DIR, t, 'config')).filter((p) => existsSync(p));
}

export async function buildSelftests(req: SelftestsRequest, run: CommandRunner = runCommand): Promise<SelftestsBuild> {
  const targets = [...req.targets];
  const key = sha256(RECIPE, req.sourceIdentity, req.arch.makeArch, req.compiler, ...targets).slice(0, 24);
  const common = [`ARCH=${req.arch.makeArch}`];
  const produced = await req.store.produce('selftests', key, async (tmp) => {
    const obj = join(tmp, 'obj');
    const install = join(tmp, 'install');
    const step = async (what: string, args: string[]) => {
      req.log?.(`${what}: make ${args.join(' ')}`);
      const r = await run('make', args);
      await appendFile(req.logPath, `$ make ${args.join(' ')}\n${r.stdout}${r.stderr}\n`);
      if (r.exitCode !== 0) throw infraError(`kselftest ${what} failed (exit ${r.exitCode}; see ${req.logPath}): ${r.stderr.trim().split('\n').slice(-2).join(' | ') || r.spawnError || ''}`);
    };
    await step('headers', ['-C', req.srcDir, `O=${obj}`, ...common, 'headers']);
    await step('build', ['-C', join(req.srcDir, SELFTESTS_DIR), `O=${obj}`, ...common, `TARGETS=${targets.join(' ')}`, `KSFT_INSTALL_PATH=${install}`, `-j${req.jobs}`, 'install']);
    const listed = new Set(parseTestList(await readFile(join(install, 'kselftest-list.txt'), 'utf8').catch(() => '')).map((c) => c.collection));
    // selftests' install carries on past a target that fails to build (and lists only what installed).
    const missing = targets.filter((t) => !listed.has(t));
    if (missing.length > 0) throw infraError(`kselftest target ${missing.join(', ')} did not build or install any test (see ${req.logPath})`);
    await rm(obj, { recursive: true, force: true });
  }, { artefacts: 'all' });
  const installDir = join(produced.path, 'install');
  const cases = parseTestList(await readFile(join(installDir, 'kselftest-list.txt'), 'utf8'));
  const timeouts = new Map<string, number>();
  for (const c of new Set(cases.map((x) => x.collection))) {
    const settings = join(installDir, c, 'settings');
    if (!existsSync(settings)) continue;
    const t = parseSettings(await readFile(settings, 'utf8')).timeoutSec;
    if (t !== undefined) timeouts.set(c, t);
  }
  req.log?.(`${produced.hit ? 'cache hit' : 'built'} ${targets.join(' ')}: ${cases.length} tests (${(await readdir(installDir)).length} entries in ${installDir})`);
  return { installDir, cacheHit: produced.hit, cases, timeouts };
}
