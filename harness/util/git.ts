// Every git call of kseries goes through here: runGit (the result, never
// throws), git (stdout, or an infrastructure error saying in one line what
// failed and git's first stderr line), and catFileBatch (one
// `git cat-file --batch` streaming many objects). The CommandRunner stays
// injectable, as everywhere in harness/.
import type { Options } from 'execa';
import { infraError } from './errors.ts';
import { runCommand, spawn, type CommandResult, type CommandRunner } from './proc.ts';

export interface GitIdentity {
  name: string;
  email: string;
}

/** Who commits: no git config can be assumed on the machines kseries runs on. */
export const KSERIES_IDENTITY: GitIdentity = { name: 'kseries', email: 'kseries@localhost' };

/**
 * Config that would make our git calls slow, interactive or unfaithful is
 * overridden per call: hooks, signing, line-ending conversion, auto gc.
 */
export const GIT_SAFE_CONFIG: readonly string[] = [
  '-c', 'core.hooksPath=/dev/null',
  '-c', 'commit.gpgSign=false',
  '-c', 'core.autocrlf=false',
  '-c', 'core.safecrlf=false',
  '-c', 'gc.auto=0',
  '-c', 'core.fsmonitor=false',
];

export function identityEnv(who: GitIdentity, role: 'author' | 'committer' | 'both' = 'both'): Record<string, string> {
  const env: Record<string, string> = {};
  if (role !== 'committer') Object.assign(env, { GIT_AUTHOR_NAME: who.name, GIT_AUTHOR_EMAIL: who.email });
  if (role !== 'author') Object.assign(env, { GIT_COMMITTER_NAME: who.name, GIT_COMMITTER_EMAIL: who.email });
  return env;
}

/**
 * One line saying why a git call failed: "<what>: <first non-empty line of
 * stderr>" (else of stdout, else the spawn error, else "exit N").
 */
export function gitFailure(what: string, r: CommandResult): string {
  const why = (r.stderr.trim() || r.stdout.trim() || r.spawnError || '').split('\n').find((l) => l.trim() !== '');
  return `${what}: ${why?.trim() ?? `exit ${r.exitCode}`}`;
}

/** Where git runs: a directory (its cwd), or a git dir given as --git-dir. */
export type GitRepo = string | { gitDir: string };

export interface GitOptions {
  run?: CommandRunner;
  /** Added to the environment (after the committer identity, so it can override it). */
  env?: Record<string, string>;
  input?: string | Buffer;
  maxBuffer?: number;
  /**
   * 'kseries' (default): GIT_SAFE_CONFIG, committer kseries. 'plain': git as
   * the user's config has it, for reads whose output must not change shape.
   */
  config?: 'kseries' | 'plain';
  /** Start of the error message of git(); default "git <args> in <repo>". */
  what?: string;
}

function repoName(repo: GitRepo): string {
  return typeof repo === 'string' ? repo : repo.gitDir;
}

/** Run git in `repo`; never throws on failure, the caller reads the exit code. */
export function runGit(repo: GitRepo, args: readonly string[], opts: GitOptions = {}): Promise<CommandResult> {
  const run = opts.run ?? runCommand;
  const kseries = (opts.config ?? 'kseries') === 'kseries';
  const full = [...(typeof repo === 'string' ? [] : ['--git-dir', repo.gitDir]), ...(kseries ? GIT_SAFE_CONFIG : []), ...args];
  const env = { ...(kseries ? identityEnv(KSERIES_IDENTITY, 'committer') : {}), ...opts.env };
  const o: Options = {
    ...(typeof repo === 'string' ? { cwd: repo } : {}),
    ...(Object.keys(env).length > 0 ? { env } : {}),
    ...(opts.input !== undefined ? { stdin: 'pipe' as const, input: opts.input } : {}),
    ...(opts.maxBuffer !== undefined ? { maxBuffer: opts.maxBuffer } : {}),
  };
  return run('git', full, o);
}

/** Run git in `repo` and return its stdout; a failure is an infrastructure error (see gitFailure). */
export async function git(repo: GitRepo, args: readonly string[], opts: GitOptions = {}): Promise<string> {
  const r = await runGit(repo, args, opts);
  if (r.exitCode !== 0) throw infraError(gitFailure(opts.what ?? `git ${args.join(' ')} in ${repoName(repo)}`, r), r.stderr);
  return r.stdout;
}

/** Receives one object of a cat-file --batch, in chunks as they stream by. */
export interface CatFileSink {
  write(chunk: Buffer): void;
  end(): void;
}

/**
 * Stream `oids` through one `git --git-dir <gitDir> cat-file --batch`. For each
 * object found, `open(oid, type, size)` returns where its content goes (chunks
 * in order, then end()); missing objects are skipped. The content is never
 * held whole here, so a whole archive can stream by.
 */
export async function catFileBatch(
  gitDir: string,
  oids: readonly string[],
  open: (oid: string, type: string, size: number) => CatFileSink,
): Promise<void> {
  if (oids.length === 0) return;
  const p = spawn('git', ['--git-dir', gitDir, 'cat-file', '--batch'], {
    stdin: 'pipe',
    buffer: { stdout: false, stderr: true },
  });
  let pending: Buffer = Buffer.alloc(0);
  // `remaining` counts the content and the newline cat-file puts after it.
  let cur: { sink: CatFileSink; remaining: number } | null = null;
  p.stdout!.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let off = 0;
    for (;;) {
      if (cur === null) {
        const nl = pending.indexOf(10, off);
        if (nl < 0) break;
        const line = pending.toString('latin1', off, nl);
        off = nl + 1;
        const m = /^([0-9a-f]+) (\S+) (\d+)$/.exec(line);
        if (m) cur = { sink: open(m[1]!, m[2]!, Number(m[3])), remaining: Number(m[3]) + 1 };
        continue; // "<oid> missing": nothing follows
      }
      const take = Math.min(cur.remaining, pending.length - off);
      if (take === 0) break;
      const content = Math.min(take, cur.remaining - 1);
      if (content > 0) cur.sink.write(pending.subarray(off, off + content));
      cur.remaining -= take;
      off += take;
      if (cur.remaining === 0) {
        cur.sink.end();
        cur = null;
      }
    }
    pending = off >= pending.length ? Buffer.alloc(0) : pending.subarray(off);
  });
  p.stdin!.end(oids.join('\n') + '\n');
  const r = await p;
  if (r.exitCode !== 0) {
    const stderr = String(r.stderr ?? '');
    throw infraError(gitFailure(`git cat-file failed in ${gitDir}`, { exitCode: r.exitCode ?? 1, stdout: '', stderr, failed: true, timedOut: false }), stderr);
  }
}
