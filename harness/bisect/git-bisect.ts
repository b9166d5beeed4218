// Drive real `git bisect` over GOOD..BAD in a worktree (never the user's
// checkout): we judge each commit git checks out and feed the verdict back,
// reading git's own answer (first bad commit, or "only skipped commits left")
// from its output. The two ends are judged first, so a range that is not as
// stated fails fast instead of producing a meaningless "first bad commit".
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { infraError, KseriesError, usageError } from '../util/errors.ts';
import { onInterrupt, runCommand, type CommandResult, type CommandRunner } from '../util/proc.ts';
import { git, gitFailure, runGit, type GitOptions } from '../util/git.ts';
import type { Judge, StepVerdict } from './judge.ts';


export interface RangeBisectRequest {
  /** The repository holding GOOD and BAD. */
  repoDir: string;
  /** A worktree of repoDir (not its main checkout); created detached at BAD when missing or empty. */
  worktreeDir: string;
  good: string;
  bad: string;
  judge: Judge;
  run?: CommandRunner;
  log?: (msg: string) => void;
}

export interface RangeStep {
  commit: string;
  subject: string;
  verdict: 'good' | 'bad' | 'skip' | 'infra';
  /** Set for the two end checks made before git bisect starts. */
  end?: 'good' | 'bad';
  /** infra: what failed. */
  reason?: string;
}

export interface RangeBisectResult {
  status: 'found' | 'ambiguous' | 'infra';
  firstBad?: { sha: string; subject: string };
  /** ambiguous: every commit that may be the first bad one, oldest first (git lists the bad bound too). */
  candidates?: string[];
  steps: RangeStep[];
  /** Subject of every commit named above. */
  subjects: Record<string, string>;
  worktreeDir: string;
  /** True when this call made the worktree (it is left in place, detached at BAD). */
  createdWorktree: boolean;
  reason?: string;
}

/** What git bisect said after a start/good/bad/skip. */
export type BisectOutput =
  | { kind: 'found'; sha: string }
  | { kind: 'only-skipped'; candidates: string[] }
  | { kind: 'next' };

const HASH = '[0-9a-f]{40}(?:[0-9a-f]{24})?';

/**
 * Read git bisect's stdout (LC_ALL=C). The "first bad commit" line is
 * followed by the commit's message, which may itself quote an old bisect
 * ("... is the first bad commit"), so only the first such line counts.
 * "only 'skip'ped commits left" lists candidates one hash a line in no
 * useful order, and that command exits 2.
 */
export function parseBisectOutput(stdout: string): BisectOutput {
  const found = new RegExp(`^(${HASH}) is the first bad commit$`, 'm').exec(stdout);
  const skippedAt = stdout.search(/^There are only 'skip'ped commits left to test\.$/m);
  if (found && (skippedAt < 0 || found.index < skippedAt)) return { kind: 'found', sha: found[1]! };
  if (skippedAt >= 0) {
    const after = stdout.slice(skippedAt);
    const end = after.search(/^We cannot bisect more!$/m);
    const list = end >= 0 ? after.slice(0, end) : after;
    return { kind: 'only-skipped', candidates: list.match(new RegExp(`^${HASH}$`, 'gm')) ?? [] };
  }
  return { kind: 'next' };
}

/** git calls here: our safe config, committer kseries, untranslated messages. */
const C_LOCALE = (run: CommandRunner): GitOptions => ({ run, env: { LC_ALL: 'C', LANGUAGE: 'C' } });

/** Never throws; the caller reads the exit code. */
function gitRaw(run: CommandRunner, cwd: string, args: readonly string[]): Promise<CommandResult> {
  return runGit(cwd, args, C_LOCALE(run));
}

function gitOk(run: CommandRunner, cwd: string, args: readonly string[]): Promise<string> {
  return git(cwd, args, C_LOCALE(run));
}

function canonical(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

async function resolveCommit(run: CommandRunner, repoDir: string, rev: string, role: string): Promise<string> {
  const r = await gitRaw(run, repoDir, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]);
  if (r.exitCode !== 0) throw usageError(`${role} revision '${rev}' is not a commit in ${repoDir}`);
  return r.stdout.trim();
}

/** Use worktreeDir when it is a clean, idle, linked worktree of repoDir; create it when it is missing. */
async function ensureWorktree(run: CommandRunner, repoDir: string, dir: string, bad: string, log?: (m: string) => void): Promise<boolean> {
  const common = (await gitOk(run, repoDir, ['rev-parse', '--path-format=absolute', '--git-common-dir'])).trim();
  if (!existsSync(dir) || readdirSync(dir).length === 0) {
    log?.(`creating worktree ${dir} detached at ${bad.slice(0, 12)}`);
    await gitOk(run, repoDir, ['worktree', 'add', '-q', '--detach', dir, bad]);
    return true;
  }
  const r = await gitRaw(run, dir, ['rev-parse', '--path-format=absolute', '--git-common-dir', '--git-dir', '--show-toplevel']);
  const [itsCommon, itsGitDir, top] = r.stdout.trim().split('\n');
  if (r.exitCode !== 0 || !itsCommon || !itsGitDir || !top || canonical(top) !== canonical(dir)) {
    throw usageError(`${dir} exists and is not a git worktree; remove it or pick another directory`);
  }
  if (canonical(itsCommon) !== canonical(common)) throw usageError(`${dir} is a worktree of another repository, not ${repoDir}`);
  if (canonical(itsGitDir) === canonical(itsCommon)) {
    throw usageError(`${dir} is the repository's own checkout; bisect checks out other commits, so it runs in a separate worktree`);
  }
  const bisecting = (await gitOk(run, dir, ['rev-parse', '--path-format=absolute', '--git-path', 'BISECT_START'])).trim();
  if (existsSync(bisecting)) throw usageError(`a git bisect is already in progress in ${dir}; run 'git bisect reset' there first`);
  const dirty = await gitOk(run, dir, ['status', '--porcelain', '--untracked-files=no']);
  if (dirty.trim() !== '') throw usageError(`${dir} has uncommitted changes to tracked files; bisect would carry them across commits`);
  return false;
}

/** Where the worktree goes back to: the branch it was on, or its detached commit. */
async function originalHead(run: CommandRunner, dir: string): Promise<{ rev: string; detached: boolean }> {
  const branch = await gitRaw(run, dir, ['symbolic-ref', '-q', '--short', 'HEAD']);
  if (branch.exitCode === 0 && branch.stdout.trim() !== '') return { rev: branch.stdout.trim(), detached: false };
  return { rev: (await gitOk(run, dir, ['rev-parse', 'HEAD'])).trim(), detached: true };
}

const verdictName = (v: StepVerdict): RangeStep['verdict'] => (typeof v === 'string' ? v : 'infra');

/**
 * Bisect GOOD..BAD with `judge`. Throws a usage error (exit 2) when the
 * range is not as stated: unknown revisions, GOOD not an ancestor of BAD, or
 * the ends not judged good and bad. An infra verdict stops the bisect and
 * returns status 'infra'. The worktree always ends where it started
 * (git bisect reset), also when the judge throws or on Ctrl-C.
 */
export async function bisectRange(req: RangeBisectRequest): Promise<RangeBisectResult> {
  const run = req.run ?? runCommand;
  const repoDir = resolve(req.repoDir);
  const dir = resolve(req.worktreeDir);
  if (!existsSync(repoDir)) throw usageError(`repository ${repoDir} does not exist`);
  const good = await resolveCommit(run, repoDir, req.good, 'good');
  const bad = await resolveCommit(run, repoDir, req.bad, 'bad');
  if (good === bad) throw usageError(`good and bad are the same commit, ${good.slice(0, 12)}: nothing to bisect`);
  const ancestry = await gitRaw(run, repoDir, ['merge-base', '--is-ancestor', good, bad]);
  if (ancestry.exitCode === 1) throw usageError(`good ${req.good} is not an ancestor of bad ${req.bad}; give a range GOOD..BAD along one history`);
  if (ancestry.exitCode !== 0) throw infraError(gitFailure('git merge-base --is-ancestor', ancestry), ancestry.stderr);

  const createdWorktree = await ensureWorktree(run, repoDir, dir, bad, req.log);
  const original = await originalHead(run, dir);
  const steps: RangeStep[] = [];
  const subjects: Record<string, string> = {};
  const subjectOf = async (sha: string) => (subjects[sha] ??= (await gitOk(run, dir, ['log', '-1', '--format=%s', sha, '--'])).trim());

  let started = false;
  // Once only: the Ctrl-C cleanup and the finally below may both get here.
  let restoring: Promise<void> | undefined;
  const restore = () =>
    (restoring ??= (async () => {
      if (started) {
        await git(dir, ['bisect', 'reset', original.rev], { ...C_LOCALE(run), what: `git bisect reset ${original.rev} in ${dir}` });
      } else {
        await gitOk(run, dir, ['checkout', '-q', original.detached ? '--detach' : '--no-guess', original.rev]);
      }
    })());
  const unregister = onInterrupt(restore);

  const result = (status: RangeBisectResult['status'], extra: Partial<RangeBisectResult> = {}): RangeBisectResult => ({
    status,
    ...extra,
    steps,
    subjects,
    worktreeDir: dir,
    createdWorktree,
  });

  /** Judge the commit checked out now and record it. */
  const judgeHead = async (end?: 'good' | 'bad'): Promise<{ sha: string; verdict: StepVerdict }> => {
    const sha = (await gitOk(run, dir, ['rev-parse', 'HEAD'])).trim();
    const subject = await subjectOf(sha);
    req.log?.(`testing ${sha.slice(0, 12)} ${subject}`);
    const verdict = await req.judge(sha);
    steps.push({ commit: sha, subject, verdict: verdictName(verdict), ...(end ? { end } : {}), ...(typeof verdict === 'string' ? {} : { reason: verdict.infra }) });
    return { sha, verdict };
  };

  let failed = false;
  try {
    // The ends first: a bisect between two commits that are not good and bad finds nothing real.
    for (const [sha, expected, rev] of [[good, 'good', req.good], [bad, 'bad', req.bad]] as const) {
      await gitOk(run, dir, ['checkout', '-q', '--detach', sha]);
      const { verdict } = await judgeHead(expected);
      if (typeof verdict !== 'string') return result('infra', { reason: `${verdict.infra} (testing the ${expected} end ${rev})` });
      if (verdict !== expected) {
        const what = verdict === 'skip' ? 'could not be tested (skip)' : `tested ${verdict}`;
        throw usageError(`the ${expected} end ${rev} (${sha.slice(0, 12)}) ${what}; give a range whose first commit is good and last is bad`);
      }
    }

    started = true;
    let out = await gitRaw(run, dir, ['bisect', 'start', bad, good, '--']);
    // Each step removes at least one candidate, so this bounds a git that stops answering sensibly.
    const limit = Number((await gitOk(run, dir, ['rev-list', '--count', `${good}..${bad}`])).trim()) + 1;
    for (let i = 0; ; i++) {
      const said = parseBisectOutput(out.stdout);
      if (said.kind === 'found') {
        const recorded = (await gitOk(run, dir, ['rev-parse', '--verify', 'refs/bisect/bad'])).trim();
        if (recorded !== said.sha) throw infraError(`git bisect named ${said.sha} the first bad commit but refs/bisect/bad is ${recorded}`);
        return result('found', { firstBad: { sha: said.sha, subject: await subjectOf(said.sha) } });
      }
      if (said.kind === 'only-skipped') {
        const order = (await gitOk(run, dir, ['rev-list', '--reverse', '--topo-order', `${good}..${bad}`])).split('\n');
        const candidates = order.filter((sha) => said.candidates.includes(sha));
        for (const sha of candidates) await subjectOf(sha);
        return result('ambiguous', { candidates, reason: 'only skipped commits are left to test' });
      }
      if (out.exitCode !== 0) throw infraError(gitFailure(`git bisect in ${dir}`, out), out.stdout + out.stderr);
      if (i >= limit) throw infraError(`git bisect did not finish after ${i} steps over ${limit - 1} commits`);

      const { sha, verdict } = await judgeHead();
      if (typeof verdict !== 'string') return result('infra', { reason: verdict.infra });
      out = await gitRaw(run, dir, ['bisect', verdict, sha]);
    }
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    unregister();
    try {
      await restore();
    } catch (e) {
      // Do not hide the error that got us here behind a failed cleanup.
      if (!failed) throw e instanceof KseriesError ? e : infraError(String(e));
    }
  }
}
