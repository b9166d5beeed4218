// `git patch-id --stable` of a patch as posted and of a commit as applied:
// equal ids mean the change went in exactly as reviewed (whitespace and line
// numbers aside); a fuzzed patch usually changes id.
import { infraError } from '../util/errors.ts';
import { runCommand, type CommandRunner } from '../util/proc.ts';

/** Patch id of any text holding a diff (a mail, a bare patch, `git show` output); '' when it holds none. */
export async function patchIdOfText(text: string, cwd: string, run: CommandRunner = runCommand): Promise<string> {
  const r = await run('git', ['patch-id', '--stable'], { cwd, stdin: 'pipe', input: text });
  if (r.exitCode !== 0) throw infraError(`git patch-id failed: ${r.stderr.trim() || r.spawnError || `exit ${r.exitCode}`}`);
  return r.stdout.trim().split(/\s+/)[0] ?? '';
}

/**
 * The commit's diff against its parent, as `git show` prints it; config that
 * would change its shape (external diff, textconv, no prefix, colour) is off.
 */
export async function commitDiff(commit: string, cwd: string, run: CommandRunner = runCommand): Promise<string> {
  const r = await run(
    'git',
    ['-c', 'diff.noprefix=false', '-c', 'diff.mnemonicPrefix=false', 'show', '--format=', '--no-color', '--no-ext-diff', '--no-textconv', commit],
    { cwd },
  );
  if (r.exitCode !== 0) throw infraError(`git show ${commit} failed: ${r.stderr.trim() || r.spawnError || `exit ${r.exitCode}`}`);
  return r.stdout + '\n';
}

export async function patchIdOfCommit(commit: string, cwd: string, run: CommandRunner = runCommand): Promise<string> {
  return patchIdOfText(await commitDiff(commit, cwd, run), cwd, run);
}
