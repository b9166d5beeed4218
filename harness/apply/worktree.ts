// Each variant of a series is applied on its own branch, checked out in its
// own git worktree, so the user's checkout is never touched. A plain source
// directory (a tarball, no .git) first becomes a repository with one import
// commit, so every variant is a branch with one commit per patch.
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { infraError, usageError } from '../util/errors.ts';
import { git, identityEnv, KSERIES_IDENTITY, runGit } from '../util/git.ts';
import { runCommand, type CommandRunner } from '../util/proc.ts';
import { sha256 } from '../util/hash.ts';

/** A valid branch name "kseries/<series-or-profile>/<variant>" from free-form parts. */
export function variantBranch(seriesOrProfile: string, variant: string): string {
  const part = (s: string) =>
    s
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/\.{2,}/g, '.')
      .replace(/^[-.]+|[-.]+$/g, '')
      .replace(/\.lock$/, '-lock') || 'unnamed';
  return `kseries/${part(seriesOrProfile)}/${part(variant)}`;
}

export interface WorktreeRequest {
  /** The user's kernel tree: a git checkout, a bare repository, or a plain source directory. */
  tree: string;
  /** Where the variant's worktree goes (created, or reset when it is already ours). */
  worktreeDir: string;
  /** e.g. from variantBranch(). */
  branch: string;
  /** Revision to branch from; default HEAD. */
  base?: string;
  /** Names a plain tree's import commit ("kseries: import <describe>"); default the directory's name. */
  describe?: string;
  /**
   * The directory is kseries' own (in its cache): when it is left over from a
   * repository that is gone (the tree was deleted and made again at the same
   * path), it is removed and created anew instead of refused.
   */
  owned?: boolean;
  run?: CommandRunner;
  log?: (msg: string) => void;
}

export interface PreparedWorktree {
  branch: string;
  worktreeDir: string;
  /** Full hash the branch starts from. */
  baseCommit: string;
  /** The repository holding the branch (the tree itself, git-initialised if it was plain). */
  repoDir: string;
  /** True when a plain tree was turned into a repository by this call. */
  imported: boolean;
}

interface WorktreeEntry {
  path: string;
  branch?: string;
}

function canonical(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

async function listWorktrees(run: CommandRunner, repoDir: string): Promise<WorktreeEntry[]> {
  const out = await git(repoDir, ['worktree', 'list', '--porcelain'], { run });
  const entries: WorktreeEntry[] = [];
  for (const block of out.split(/\n\n+/)) {
    const path = /^worktree (.+)$/m.exec(block)?.[1];
    if (!path) continue;
    const branch = /^branch refs\/heads\/(.+)$/m.exec(block)?.[1];
    entries.push({ path: canonical(path), ...(branch ? { branch } : {}) });
  }
  return entries;
}

/**
 * Why a directory that no repository lists is an orphaned worktree, or null
 * when it may hold someone's work: its `.git` file names a git directory that
 * no longer exists, or it has no `.git` at all (a worktree add cut short).
 */
function orphanedWorktree(dir: string): string | null {
  const dotGit = join(dir, '.git');
  if (!existsSync(dotGit)) return 'it has no .git';
  if (!statSync(dotGit).isFile()) return null;
  const gitdir = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1]?.trim();
  if (!gitdir) return null;
  const abs = resolve(dir, gitdir);
  return existsSync(abs) ? null : `its repository is gone (${abs} does not exist)`;
}

/**
 * The repository behind `tree`: the tree itself when it is a repository's
 * top level (or a bare repository), else null (a plain directory, possibly
 * sitting inside some unrelated repository).
 */
async function findRepo(run: CommandRunner, tree: string): Promise<string | null> {
  const r = await runGit(tree, ['rev-parse', '--is-bare-repository', '--show-toplevel'], { run, config: 'plain' });
  const [bare, top] = r.stdout.trim().split('\n');
  if (bare === 'true') return tree;
  if (r.exitCode !== 0 || !top) return null;
  return canonical(top) === canonical(tree) ? tree : null;
}

/**
 * Make a plain directory a repository with everything in one commit. Dates
 * are fixed, so the same sources always give the same import commit. -f adds
 * files an in-tree .gitignore would skip: the import is the tree as given.
 */
export async function importPlainTree(tree: string, describe: string, run: CommandRunner = runCommand, log?: (msg: string) => void): Promise<string> {
  log?.(`${tree} is not a git repository: importing it as one commit`);
  const env = { ...identityEnv(KSERIES_IDENTITY), GIT_AUTHOR_DATE: '@0 +0000', GIT_COMMITTER_DATE: '@0 +0000' };
  await git(tree, ['init', '-q', '--initial-branch=kseries/import'], { run });
  await git(tree, ['-c', 'core.preloadIndex=true', '-c', 'index.threads=true', 'add', '-A', '-f', '--', '.'], { run });
  await git(tree, ['commit', '-q', '--no-verify', '--allow-empty', '-m', `kseries: import ${describe}`], { run, env });
  return (await git(tree, ['rev-parse', 'HEAD'], { run })).trim();
}

/**
 * Create (or reset) `branch` at `base` and check it out in a new worktree at
 * `worktreeDir`. Re-running with the same branch and directory resets both.
 */
export async function prepareWorktree(req: WorktreeRequest): Promise<PreparedWorktree> {
  const run = req.run ?? runCommand;
  const tree = resolve(req.tree);
  const dir = resolve(req.worktreeDir);
  if (!existsSync(tree) || !statSync(tree).isDirectory()) throw usageError(`kernel tree ${tree} is not a directory`);

  const refCheck = await run('git', ['check-ref-format', `refs/heads/${req.branch}`]);
  if (refCheck.exitCode !== 0) throw usageError(`'${req.branch}' is not a valid branch name`);

  let repoDir = await findRepo(run, tree);
  let imported = false;
  if (repoDir === null) {
    await importPlainTree(tree, req.describe ?? basename(tree), run, req.log);
    repoDir = tree;
    imported = true;
  }

  const base = req.base ?? 'HEAD';
  const rev = await runGit(repoDir, ['rev-parse', '--verify', '--quiet', `${base}^{commit}`], { run, config: 'plain' });
  if (rev.exitCode !== 0) throw usageError(`base revision '${base}' is not a commit in ${tree}`);
  const baseCommit = rev.stdout.trim();

  let worktrees = await listWorktrees(run, repoDir);
  const target = canonical(dir);
  const mine = worktrees.find((w) => w.path === target);
  let branch = req.branch;
  let holder = worktrees.find((w) => w.branch === branch && w.path !== target);
  if (holder && !existsSync(holder.path)) {
    // Registered, but its directory is gone (a deleted cache): git forgets it.
    await git(repoDir, ['worktree', 'prune'], { run });
    worktrees = await listWorktrees(run, repoDir);
    holder = worktrees.find((w) => w.branch === branch && w.path !== target);
  }
  if (holder && req.owned) {
    // Another kseries cache (or a user's worktree) has the branch: this worktree gets its own name.
    branch = `${req.branch}@${sha256(target).slice(0, 8)}`;
    req.log?.(`branch ${req.branch} is checked out in another worktree, ${holder.path}; using ${branch} here`);
    holder = worktrees.find((w) => w.branch === branch && w.path !== target);
  }
  if (holder) throw usageError(`branch ${branch} is checked out in another worktree, ${holder.path}; remove it or pick another directory`);

  if (mine && existsSync(dir)) {
    // Ours from an earlier run: drop any half-done git am, reset branch and files.
    req.log?.(`resetting worktree ${dir} to ${baseCommit.slice(0, 12)} on ${branch}`);
    await runGit(dir, ['am', '--abort'], { run, config: 'plain' });
    await git(dir, ['checkout', '-q', '-f', '-B', branch, baseCommit], { run });
    await git(dir, ['clean', '-fdq'], { run });
  } else {
    if (mine) await git(repoDir, ['worktree', 'prune'], { run });
    const orphan = req.owned && existsSync(dir) ? orphanedWorktree(dir) : null;
    if (orphan) {
      req.log?.(`removing the left-over worktree ${dir}: ${orphan}`);
      rmSync(dir, { recursive: true, force: true });
    }
    if (existsSync(dir) && readdirSync(dir).length > 0) {
      throw usageError(`${dir} already exists and is not a worktree of ${tree}; remove it or pick another directory`);
    }
    req.log?.(`creating worktree ${dir} on ${branch} at ${baseCommit.slice(0, 12)}`);
    await git(repoDir, ['worktree', 'add', '-q', '-B', branch, dir, baseCommit], { run });
    worktrees = await listWorktrees(run, repoDir);
    if (!worktrees.some((w) => w.path === canonical(dir))) throw infraError(`git worktree add did not register ${dir}`);
  }
  return { branch: branch, worktreeDir: dir, baseCommit, repoDir, imported };
}

/** Remove a variant's worktree (the branch stays, for inspection). */
export async function removeWorktree(repoDir: string, worktreeDir: string, run: CommandRunner = runCommand): Promise<void> {
  await git(repoDir, ['worktree', 'remove', '--force', resolve(worktreeDir)], { run });
}
