// --guess-base: which commit of the tree's history a series was written
// against, found as b4 does, from the pre-image blob hashes of its "index"
// lines. The state of the touched files only changes at commits that touch
// them, so those commits (newest first) are the only candidates to check.
import { messageBody } from '../mail/mbox.ts';
import { git, runGit } from '../util/git.ts';
import { runCommand, type CommandRunner } from '../util/proc.ts';
import type { PatchToApply } from './apply-series.ts';
import { parseUnifiedDiff } from './unified-diff.ts';

/** For each path the series changes, the blob it expects to find: that of the first patch touching it (new files have none). */
export function preimageBlobs(patches: readonly PatchToApply[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of patches) {
    for (const f of parseUnifiedDiff(messageBody(p.message.raw))) {
      if (f.oldPath === null || f.oldBlob === undefined || /^0+$/.test(f.oldBlob)) {
        if (f.newPath !== null && !out.has(f.newPath)) out.set(f.newPath, ''); // created here: no pre-image to match
        continue;
      }
      if (!out.has(f.oldPath)) out.set(f.oldPath, f.oldBlob);
    }
  }
  for (const [k, v] of out) if (v === '') out.delete(k);
  return out;
}

export interface GuessedBase {
  commit: string;
  matched: number;
  total: number;
  /** Commits whose file state was compared. */
  checked: number;
}

/** How many of the expected blobs the tree of `rev` holds at their paths. */
async function score(repo: string, rev: string, blobs: ReadonlyMap<string, string>, run: CommandRunner): Promise<number> {
  const out = await git(repo, ['ls-tree', '-r', rev, '--', ...blobs.keys()], { run });
  let n = 0;
  for (const line of out.split('\n')) {
    const m = /^\d+ blob ([0-9a-f]+)\t(.*)$/.exec(line);
    if (m && blobs.get(m[2]!) !== undefined && m[1]!.startsWith(blobs.get(m[2]!)!)) n++;
  }
  return n;
}

/**
 * The newest commit (among HEAD and the last `maxCommits` commits touching the series' files)
 * holding the most of the series' pre-image blobs; undefined when none holds any.
 */
export async function guessBase(repo: string, patches: readonly PatchToApply[], o: { maxCommits?: number; run?: CommandRunner } = {}): Promise<GuessedBase | undefined> {
  const run = o.run ?? runCommand;
  const blobs = preimageBlobs(patches);
  if (blobs.size === 0) return undefined;
  const touching = (await git(repo, ['rev-list', `--max-count=${o.maxCommits ?? 2000}`, 'HEAD', '--', ...blobs.keys()], { run })).split('\n').filter(Boolean);
  const head = (await git(repo, ['rev-parse', 'HEAD'], { run })).trim();
  // The state after touching[i] lasts until touching[i-1]: its newest commit is touching[i-1]'s parent (HEAD for i = 0).
  const candidates: { state: string; newest: string }[] = touching.map((c, i) => ({ state: c, newest: i === 0 ? head : `${touching[i - 1]}^` }));
  if (touching.length === 0) candidates.push({ state: head, newest: head });
  let best: GuessedBase | undefined;
  let checked = 0;
  for (const c of candidates) {
    const n = await score(repo, c.state, blobs, run);
    checked++;
    if (n > (best?.matched ?? 0)) {
      // Prefer the newest commit with this state, when it really has it (a merge may not).
      const newest = c.newest === head ? head : (await runGit(repo, ['rev-parse', '--verify', '--quiet', `${c.newest}^{commit}`], { run })).stdout.trim();
      const commit = newest && newest !== c.state && (await score(repo, newest, blobs, run)) === n ? newest : c.state;
      best = { commit, matched: n, total: blobs.size, checked };
      if (n === blobs.size) break;
    }
  }
  return best ? { ...best, checked } : undefined;
}
