// Build-dir reuse: a new build entry starts from a copy of the nearest cached
// build of the same family (source path, arch, requested config, compiler),
// so make recompiles only what differs between the two source states.
// Published entries stay immutable: the copy is the new entry's private work area.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CacheStore } from '../cache/store.ts';
import { infraError } from '../util/errors.ts';
import { runGit } from '../util/git.ts';
import { sha256 } from '../util/hash.ts';
import { runCommand, type CommandRunner } from '../util/proc.ts';

/** What a build entry records about itself (entry.json), as far as reuse needs it. */
export interface EntryRecord {
  key: string;
  /** Builds of one family can seed each other. */
  family?: string;
  /** The git tree hash of the sources built, when known. */
  sourceTree?: string;
  /** Hash of what the config step reads; equal hashes give the same .config. */
  configInputs?: string;
  at?: string;
}

export interface FamilyInputs {
  srcDir: string;
  arch: string;
  requestedConfig: string;
  compiler: string;
}

/** Pure: builds in one family differ only in their sources. */
export function buildFamily(i: FamilyInputs): string {
  return sha256('kseries-family-1', i.srcDir, i.arch, i.requestedConfig, i.compiler).slice(0, 24);
}

/** The git tree (or clean commit) behind a source identity, or null (tarball, dirty checkout...). */
export function gitTreeOf(identity: string): string | null {
  const m = /^git(?:-tree)?:([0-9a-f]{40,64})$/.exec(identity);
  return m ? m[1]! : null;
}

export interface SeedCandidate {
  dir: string;
  record: EntryRecord;
  /** Files differing between the candidate's sources and ours. */
  distance: number;
}

/** Pure: the nearest candidate; ties go to the newest entry. */
export function pickNearest(cands: readonly SeedCandidate[]): SeedCandidate | null {
  let best: SeedCandidate | null = null;
  for (const c of cands) {
    if (
      !best ||
      c.distance < best.distance ||
      (c.distance === best.distance && (c.record.at ?? '') > (best.record.at ?? ''))
    ) best = c;
  }
  return best;
}

/** Number of paths that differ between two git trees, or null when git cannot tell. */
export async function treeDistance(run: CommandRunner, repoDir: string, a: string, b: string): Promise<number | null> {
  if (a === b) return 0;
  const r = await runGit(repoDir, ['diff', '--no-renames', '--name-only', '-z', a, b], { run, config: 'plain' });
  if (r.exitCode !== 0) return null;
  return r.stdout.split('\0').filter((s) => s !== '').length;
}

export interface SeedRequest {
  store: CacheStore;
  family: string;
  sourceTree: string;
  repoDir: string;
  /** Entries that must not be used (e.g. failed verification). */
  isUsable?: (entryDir: string) => Promise<boolean>;
  run?: CommandRunner;
}

/** Find the nearest published build of the same family, or null. */
export async function findSeed(req: SeedRequest): Promise<SeedCandidate | null> {
  const run = req.run ?? runCommand;
  const dir = req.store.dir('builds');
  const names = await readdir(dir).catch(() => [] as string[]);
  const cands: SeedCandidate[] = [];
  for (const name of names) {
    if (name.includes('.')) continue; // .lock, .tmp-PID, .bad-...
    const entryDir = join(dir, name);
    const record = await readFile(join(entryDir, 'entry.json'), 'utf8').then((t) => JSON.parse(t) as EntryRecord).catch(() => null);
    if (!record || record.family !== req.family || !record.sourceTree) continue;
    const distance = await treeDistance(run, req.repoDir, record.sourceTree, req.sourceTree);
    if (distance === null) continue;
    cands.push({ dir: entryDir, record, distance });
  }
  // Nearest first; only the one taken is verified.
  for (;;) {
    const best = pickNearest(cands);
    if (!best || !req.isUsable || (await req.isUsable(best.dir))) return best;
    cands.splice(cands.indexOf(best), 1);
  }
}

/** Copy a build dir with its mtimes (make decides by them), using reflinks where the filesystem has them. */
export async function copyBuildDir(from: string, to: string, run: CommandRunner = runCommand): Promise<void> {
  const r = await run('cp', ['-a', '--reflink=auto', from, to]);
  if (r.exitCode !== 0) throw infraError(`cannot copy build dir ${from}: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
}

/**
 * Files the config step reads besides the requested options: every Kconfig
 * file, the config fragments, kconfig itself, and the top-level scripts that
 * Kconfig's $(shell,...) runs (cc-version.sh, ld-version.sh, ...).
 */
const CONFIG_INPUT = /(^|\/)Kconfig[^/]*$|^kernel\/configs\/|^arch\/[^/]+\/configs\/|^scripts\/kconfig\/|^scripts\/[^/]+$/;

/**
 * Hash of everything the config step depends on, from git's own blob hashes
 * (no file is read), or null when the sources are not a known git tree.
 */
export async function configInputsHash(
  run: CommandRunner,
  repoDir: string,
  sourceTree: string,
  arch: string,
  requestedConfig: string,
): Promise<string | null> {
  const r = await runGit(repoDir, ['ls-tree', '-r', '-z', sourceTree], { run, config: 'plain', maxBuffer: 1 << 30 });
  if (r.exitCode !== 0) return null;
  const lines = r.stdout.split('\0').filter((l) => {
    const tab = l.indexOf('\t');
    return tab > 0 && CONFIG_INPUT.test(l.slice(tab + 1));
  });
  return sha256('kseries-config-inputs-1', arch, requestedConfig, ...lines);
}
