// Config stage: tinyconfig, then the requested fragments and additions merged
// over it, then olddefconfig; every requested option must survive.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArchDef } from '../model/arch.ts';
import { usageError, infraError } from '../util/errors.ts';
import { runCommand, type CommandRunner } from '../util/proc.ts';
import { entriesFor, explainDropped, srcArchOf, symbolFacts } from './kconfig-why.ts';
import { describeDropped, findDropped, formatKconfig, mergeKconfig, parseKconfig, renameQuestions, withDeclaredNames, type Kconfig } from './kconfig.ts';

export interface ConfigRequest {
  srcDir: string;
  buildDir: string;
  arch: ArchDef;
  /** Requested options, already merged from fragments and --kconfig (see requestedConfig). */
  requested: Kconfig;
}

export interface ConfigResult {
  /** The final .config text after olddefconfig. */
  configText: string;
  final: Kconfig;
  /** Requested options this tree declares under their older names (KCONFIG_RENAMES): [asked, used]. */
  renamed: [string, string][];
}

/** The requested options under the names this tree's Kconfig declares (one grep, only when a renamed option is asked for). */
export async function declaredRequest(srcDir: string, makeArch: string, requested: Kconfig, run: CommandRunner = runCommand): Promise<{ config: Kconfig; renamed: [string, string][] }> {
  const names = renameQuestions(requested);
  if (names.length === 0) return { config: requested, renamed: [] };
  const facts = await symbolFacts(srcDir, names, run);
  if (!facts) return { config: requested, renamed: [] };
  const arch = srcArchOf(makeArch);
  const declared = (n: string) => {
    const f = facts.get(n);
    return f !== undefined && entriesFor(f, arch).length > 0;
  };
  return withDeclaredNames(requested, declared);
}

/** Base make invocation for a build dir; shared with the build stage and reproducer.sh. */
export function makeArgv(srcDir: string, buildDir: string, arch: ArchDef, ...targets: string[]): string[] {
  return ['make', '-C', srcDir, `O=${buildDir}`, `ARCH=${arch.makeArch}`, ...targets];
}

/** Merge fragment files (in order) and then --kconfig additions into one requested set. */
export async function requestedConfig(fragmentPaths: string[], additions: [string, string][]): Promise<Kconfig> {
  const parts: Kconfig[] = [];
  for (const p of fragmentPaths) {
    let text: string;
    try {
      text = await readFile(p, 'utf8');
    } catch {
      throw usageError(`config fragment ${p} cannot be read`);
    }
    parts.push(parseKconfig(text));
  }
  parts.push(new Map(additions));
  return mergeKconfig(...parts);
}

export async function configureKernel(req: ConfigRequest, run: CommandRunner = runCommand): Promise<ConfigResult> {
  const make = async (target: string) => {
    const [file, ...args] = makeArgv(req.srcDir, req.buildDir, req.arch, target);
    const r = await run(file!, args);
    if (r.exitCode !== 0) {
      const why = (r.spawnError ?? r.stderr.trim().split('\n').slice(-3).join(' | ')) || `exit ${r.exitCode}`;
      throw infraError(`make ${target} failed: ${why}`);
    }
  };
  const dotConfig = join(req.buildDir, '.config');
  // In a reused build dir an identical .config must keep its mtime, or make
  // would run syncconfig and recompile what depends on the config.
  const kept = join(req.buildDir, '.config.kseries-kept');
  const previous = await readFile(dotConfig, 'utf8').catch(() => null);
  if (previous !== null) await rename(dotConfig, kept); // tinyconfig starts from nothing
  await make('tinyconfig');
  const tiny = parseKconfig(await readFile(dotConfig, 'utf8'));
  const { config: requested, renamed } = await declaredRequest(req.srcDir, req.arch.makeArch, req.requested, run);
  await writeFile(dotConfig, formatKconfig(mergeKconfig(tiny, requested)));
  await make('olddefconfig');
  const configText = await readFile(dotConfig, 'utf8');
  if (previous !== null) {
    if (previous === configText) await rename(kept, dotConfig);
    else await rm(kept, { force: true });
  }
  const final = parseKconfig(configText);
  const dropped = findDropped(requested, final);
  if (dropped.length > 0) {
    const why = await explainDropped(req.srcDir, req.arch.makeArch, dropped, final, run);
    throw usageError(`olddefconfig dropped requested options: ${why ?? describeDropped(dropped)}`);
  }
  return { configText, final, renamed };
}
