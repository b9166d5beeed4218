// Every subprocess goes through here, so Ctrl-C can kill whole process groups
// (make's compilers, QEMU) and run cleanups before kseries exits.
import { execa, type Options, type ResultPromise } from 'execa';
import { ExitCode } from '../model/results.ts';

type Cleanup = (signal: NodeJS.Signals) => void | Promise<void>;
const live = new Set<ResultPromise>();
const cleanups = new Set<Cleanup>();
let installed = false;
let interrupted = false;

/** Register work to undo on Ctrl-C (half-written cache entries, locks). Returns an unregister function. */
export function onInterrupt(fn: Cleanup): () => void {
  installHandlers();
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

export function wasInterrupted(): boolean {
  return interrupted;
}

function killGroup(p: ResultPromise, signal: NodeJS.Signals): void {
  if (p.pid === undefined) return;
  try {
    process.kill(-p.pid, signal);
  } catch {
    try { p.kill(signal); } catch { /* already gone */ }
  }
}

function installHandlers(): void {
  if (installed) return;
  installed = true;
  const handler = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\nkseries: ${signal}: stopping subprocesses and cleaning up\n`);
    for (const p of live) killGroup(p, 'SIGTERM');
    setTimeout(() => { for (const p of live) killGroup(p, 'SIGKILL'); }, 2000).unref();
    void (async () => {
      for (const fn of [...cleanups].reverse()) {
        try { await fn(signal); } catch { /* best effort */ }
      }
      process.exit(ExitCode.INTERRUPTED);
    })();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/**
 * Start a subprocess in its own process group, tracked for Ctrl-C.
 * Never rejects on a non-zero exit: callers inspect exitCode themselves.
 */
export function spawn(file: string, args: readonly string[], opts: Options = {}): ResultPromise {
  installHandlers();
  const p = execa(file, args, { reject: false, detached: true, ...opts } as Options) as ResultPromise;
  live.add(p);
  const done = () => live.delete(p);
  p.then(done, done);
  return p;
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  failed: boolean;
  /** Killed because the `timeout` option ran out. */
  timedOut: boolean;
  /** Set when the command could not be started at all (ENOENT...). */
  spawnError?: string;
}

/** Injectable "run a command to completion" interface, so stages are testable without a kernel. */
export type CommandRunner = (file: string, args: readonly string[], opts?: Options) => Promise<CommandResult>;

export const runCommand: CommandRunner = async (file, args, opts = {}) => {
  const r = await spawn(file, args, { stdin: 'ignore', ...opts });
  const code = typeof r.exitCode === 'number' ? r.exitCode : r.failed ? -1 : 0;
  const spawnError = r.failed && r.exitCode === undefined && !r.isTerminated ? r.shortMessage : undefined;
  return {
    exitCode: code,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
    failed: r.failed,
    timedOut: r.timedOut,
    ...(spawnError ? { spawnError } : {}),
  };
};

/** Quote one argument for a POSIX shell (reproducer.sh). */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** All of this process's stdin (a mail piped by b4, a console log for `parse -`). */
export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
