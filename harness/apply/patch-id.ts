// `git patch-id --stable` of a patch as posted and of a commit as applied:
// equal ids mean the change went in exactly as reviewed (whitespace and line
// numbers aside); a fuzzed patch usually changes id.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git } from '../util/git.ts';
import { runCommand, type CommandRunner } from '../util/proc.ts';

/** Patch id of any text holding a diff (a mail, a bare patch, `git show` output); '' when it holds none. */
export async function patchIdOfText(text: string | Buffer, cwd: string, run: CommandRunner = runCommand): Promise<string> {
  const out = await git(cwd, ['patch-id', '--stable'], { run, config: 'plain', input: text, what: 'git patch-id failed' });
  return out.trim().split(/\s+/)[0] ?? '';
}

/**
 * The commit's diff against its parent, as `git show` prints it; config that
 * would change its shape (external diff, textconv, no prefix, colour) is off.
 */
const SHOW = ['-c', 'diff.noprefix=false', '-c', 'diff.mnemonicPrefix=false', 'show', '--format=', '--no-color', '--no-ext-diff', '--no-textconv'];

export async function commitDiff(commit: string, cwd: string, run: CommandRunner = runCommand): Promise<string> {
  return (await git(cwd, [...SHOW, commit], { run, config: 'plain', what: `git show ${commit} failed` })) + '\n';
}

/** The patch id of a commit, from its diff's bytes (a non-UTF-8 line must not turn into U+FFFD first). */
export async function patchIdOfCommit(commit: string, cwd: string, run: CommandRunner = runCommand): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-patch-id-'));
  try {
    const file = join(dir, 'diff');
    await git(cwd, [...SHOW, `--output=${file}`, commit], { run, config: 'plain', what: `git show ${commit} failed` });
    return await patchIdOfText(await readFile(file), cwd, run);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
