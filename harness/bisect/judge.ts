// Judges turn "the tree as it is checked out now" into good / bad / skip, or
// an infrastructure failure. The same judge serves git bisect over a commit
// range and the prefix search over a series (the caller applies the prefix,
// then asks the judge).
import type { Options } from 'execa';
import { runCommand, type CommandRunner } from '../util/proc.ts';
import type { StepObservation, Tester } from './search.ts';

export type StepVerdict = 'good' | 'bad' | 'skip' | { infra: string };

/** Judges the tree checked out at `commit` (commit is informational: the judge looks at the checkout). */
export type Judge = (commit: string) => Promise<StepVerdict>;

/**
 * `git bisect run`'s convention: 0 good, 125 skip (cannot test), 1-127 bad.
 * Anything else (≥ 128: killed by a signal, or our -1 for "did not run")
 * means the test itself broke, so it must not count either way.
 */
export function verdictForExit(exitCode: number): StepVerdict {
  if (exitCode === 0) return 'good';
  if (exitCode === 125) return 'skip';
  if (exitCode >= 1 && exitCode <= 127) return 'bad';
  return { infra: `exit status ${exitCode}` };
}

export interface CommandJudgeOptions {
  run?: CommandRunner;
  /** Extra environment for the command. */
  env?: Record<string, string>;
  /** Kill the command after this long; a timeout is an infrastructure failure. */
  timeoutMs?: number;
}

/** A judge that runs `sh -c CMD` in `cwd` and reads its exit status as git bisect run would. */
export function commandJudge(cmd: string, cwd: string, opts: CommandJudgeOptions = {}): Judge {
  const run = opts.run ?? runCommand;
  return async () => {
    const runOpts: Options = { cwd, ...(opts.env ? { env: opts.env } : {}), ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}) };
    const r = await run('sh', ['-c', cmd], runOpts);
    const lastLine = (r.stderr.trim() || r.stdout.trim()).split('\n').at(-1) ?? '';
    const tail = lastLine ? `: ${lastLine}` : '';
    if (r.spawnError) return { infra: `could not run \`${cmd}\` in ${cwd}: ${r.spawnError}` };
    if (r.timedOut) return { infra: `\`${cmd}\` timed out after ${opts.timeoutMs} ms` };
    const v = verdictForExit(r.exitCode);
    if (typeof v !== 'string') {
      const how = r.exitCode < 0 ? 'was killed' : `exited with ${r.exitCode}`;
      return { infra: `\`${cmd}\` ${how}${tail}` };
    }
    return v;
  };
}

/** A judge's verdict as a prefix-search observation: the verdict itself is the value compared with the base. */
export function verdictObservation(v: StepVerdict): StepObservation {
  if (typeof v !== 'string') return { kind: 'infra', reason: v.infra };
  if (v === 'skip') return { kind: 'skip', reason: 'the test command could not test this prefix (exit 125)' };
  return { kind: 'value', value: v };
}

/**
 * A judge from observations of the tree at each commit (a probe's value): git bisect checks the
 * GOOD end first, so the first value observed is what "good" looks like and any other is bad.
 * An observation that could not be made (a build failure) is a skip.
 */
export function observationJudge(observe: (commit: string) => Promise<StepObservation>): Judge {
  let reference: string | undefined;
  return async (commit) => {
    const o = await observe(commit);
    if (o.kind === 'skip') return 'skip';
    if (o.kind === 'infra') return { infra: o.reason };
    reference ??= o.value;
    return o.value === reference ? 'good' : 'bad';
  };
}

/**
 * A Tester for the prefix search built from a judge: `checkoutPrefix(k)`
 * applies base + patches 1..k in the judge's tree and returns the commit.
 */
export function judgeTester(checkoutPrefix: (k: number) => Promise<string>, judge: Judge): Tester {
  return { observe: async (k) => verdictObservation(await judge(await checkoutPrefix(k))) };
}
