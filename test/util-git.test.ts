import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catFileBatch, git, gitFailure, GIT_SAFE_CONFIG, runGit } from '../harness/util/git.ts';
import type { CommandResult, CommandRunner } from '../harness/util/proc.ts';

const result = (over: Partial<CommandResult>): CommandResult => ({ exitCode: 0, stdout: '', stderr: '', failed: false, timedOut: false, ...over });

t.test('gitFailure: one line, git\'s first stderr line', async (t) => {
  const r = result({ exitCode: 128, stderr: "\nfatal: 'x' is not a commit\nhint: try something else\n" });
  t.equal(gitFailure('git checkout x in /r', r), "git checkout x in /r: fatal: 'x' is not a commit");
  t.equal(gitFailure('w', result({ exitCode: 1, stdout: 'only stdout\nmore' })), 'w: only stdout', 'stdout when stderr is empty');
  t.equal(gitFailure('w', result({ exitCode: 1, spawnError: 'spawn git ENOENT' })), 'w: spawn git ENOENT');
  t.equal(gitFailure('w', result({ exitCode: 3 })), 'w: exit 3');
});

t.test('the injected CommandRunner sees the call; git() throws an infrastructure error', async (t) => {
  const calls: { file: string; args: readonly string[]; opts: object | undefined }[] = [];
  const run: CommandRunner = async (file, args, opts) => {
    calls.push({ file, args, opts });
    return args.includes('bad') ? result({ exitCode: 128, stderr: 'fatal: bad revision\nusage: ...' }) : result({ stdout: 'ok\n' });
  };
  t.equal(await git('/repo', ['rev-parse', 'HEAD'], { run }), 'ok\n');
  t.same(calls[0]!.args, [...GIT_SAFE_CONFIG, 'rev-parse', 'HEAD'], 'kseries config by default');
  t.match(calls[0]!.opts, { cwd: '/repo', env: { GIT_COMMITTER_NAME: 'kseries' } });
  await runGit({ gitDir: '/g.git' }, ['log'], { run, config: 'plain' });
  t.same(calls[1]!.args, ['--git-dir', '/g.git', 'log'], 'plain: no config, --git-dir');
  t.notOk((calls[1]!.opts as { cwd?: string }).cwd);
  await t.rejects(git('/repo', ['show', 'bad'], { run }), { exitCode: 3, message: 'git show bad in /repo: fatal: bad revision' });
  await t.rejects(git('/repo', ['show', 'bad'], { run, what: 'git show bad failed' }), { message: 'git show bad failed: fatal: bad revision' });
  t.equal((await runGit('/repo', ['show', 'bad'], { run })).exitCode, 128, 'runGit never throws');
});

t.test('catFileBatch streams every object found, skipping missing ones', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kseries-catfile-'));
  execFileSync('git', ['init', '-q', dir]);
  const blobs = ['', 'one\n', 'x'.repeat(300_000) + '\nend'].map((text, i) => {
    writeFileSync(join(dir, `f${i}`), text);
    return { text, oid: execFileSync('git', ['-C', dir, 'hash-object', '-w', `f${i}`], { encoding: 'utf8' }).trim() };
  });
  const got = new Map<string, string>();
  const missing = '0'.repeat(40);
  await catFileBatch(join(dir, '.git'), [blobs[1]!.oid, missing, blobs[0]!.oid, blobs[2]!.oid], (oid, type, size) => {
    t.equal(type, 'blob');
    const chunks: Buffer[] = [];
    return { write: (c) => chunks.push(c), end: () => { const s = Buffer.concat(chunks).toString(); t.equal(s.length, size); got.set(oid, s); } };
  });
  t.same([...got.keys()], [blobs[1]!.oid, blobs[0]!.oid, blobs[2]!.oid]);
  for (const b of blobs) t.equal(got.get(b.oid), b.text);
  await t.rejects(catFileBatch(join(dir, 'nope'), ['HEAD'], () => ({ write() {}, end() {} })), { message: /^git cat-file failed in .*nope: / });
});
