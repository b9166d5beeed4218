// A variant's sources: its branch (one commit per patch) checked out in the
// tree's shared kseries worktree. Every variant of a tree uses the same
// worktree path, so ccache hits across variants and only what a patch
// touches is compiled again; a lock keeps two runs from switching it at once.
import { join } from 'node:path';
import type { CacheStore } from '../cache/store.ts';
import type { SourceTree } from '../kernel/tree.ts';
import { applySeries, type PatchToApply } from '../apply/apply-series.ts';
import type { PatchApplyReport } from '../apply/apply-types.ts';
import { importPlainTree, prepareWorktree, variantBranch } from '../apply/worktree.ts';
import { git } from '../util/git.ts';
import { sha256 } from '../util/hash.ts';
import { runCommand, type CommandRunner } from '../util/proc.ts';
import { readFile } from 'node:fs/promises';
import { kernelVersionFromMakefile } from '../kernel/tree.ts';

export interface VariantCheckoutRequest {
  tree: SourceTree;
  /** Revision of the tree to branch from (default HEAD, or the import commit of a plain tree). */
  base?: string;
  /** "<profile or series>" and "<variant>" name the branch kseries/<a>/<b>. */
  label: string;
  variant: string;
  patches: PatchToApply[];
  allowMisplaced: boolean;
  store: CacheStore;
  run?: CommandRunner;
  log?: (msg: string) => void;
}

export interface VariantCheckout {
  /** The tree to build: the worktree, with identity from the resulting git tree. */
  tree: SourceTree;
  branch: string;
  repoDir: string;
  baseCommit: string;
  head: string;
  reports: PatchApplyReport[];
}

/**
 * Check the variant out and run `fn` while holding the worktree, e.g. to build
 * it. The branch stays in the tree's repository afterwards for inspection.
 */
export async function withVariantCheckout<T>(req: VariantCheckoutRequest, fn: (v: VariantCheckout) => Promise<T>): Promise<T> {
  const run = req.run ?? runCommand;
  if (!req.tree.isGit) {
    // Once per tree, and never by two processes at once: git init + one import commit.
    await req.store.produce('imports', sha256(req.tree.identity, req.tree.srcDir).slice(0, 24), async () => {
      await importPlainTree(req.tree.srcDir, req.tree.describe, run, req.log);
    });
  }
  const key = sha256(req.tree.srcDir).slice(0, 16);
  return req.store.withLock('worktrees', key, async () => {
    const branch = variantBranch(req.label, req.variant);
    const wt = await prepareWorktree({
      tree: req.tree.srcDir,
      worktreeDir: join(req.store.dir('worktrees'), key),
      branch,
      ...(req.base ? { base: req.base } : {}),
      describe: req.tree.describe,
      owned: true,
      run,
      ...(req.log ? { log: req.log } : {}),
    });
    const applied = await applySeries({ worktreeDir: wt.worktreeDir, patches: req.patches, allowMisplaced: req.allowMisplaced, run, ...(req.log ? { log: req.log } : {}) });
    const treeHash = (await git(wt.worktreeDir, ['rev-parse', 'HEAD^{tree}'], { run })).trim();
    const version = kernelVersionFromMakefile(await readFile(join(wt.worktreeDir, 'Makefile'), 'utf8'));
    return fn({
      tree: {
        srcDir: wt.worktreeDir,
        // The git tree hash names exactly the sources built, whatever path led to them.
        identity: `git-tree:${treeHash}`,
        describe: `${req.tree.describe} + ${req.patches.length} patch(es) on ${wt.branch}`,
        version,
        isGit: true,
      },
      branch: wt.branch,
      repoDir: wt.repoDir,
      baseCommit: wt.baseCommit,
      head: applied.head,
      reports: applied.reports,
    });
  });
}
