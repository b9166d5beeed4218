// Cross-process locks that die with their owner. A flock(1) child holds an
// exclusive lock on a file for as long as our pipe to its stdin is open; when
// kseries exits, is killed or crashes, the pipe closes and the kernel drops the
// lock, so there is never a stale lock to take over. A small owner file next
// to the lock says who holds it, for the "waiting for ..." line.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { infraError } from '../util/errors.ts';
import { spawn } from '../util/proc.ts';

/** flock's exit code when --nonblock finds the lock taken (EX_TEMPFAIL). */
const CONFLICT = 75;

export interface LockOwner {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
}

export type Release = () => Promise<void>;

const ownerFile = (lockFile: string) => `${lockFile}.owner`;

/** Pure: the one line printed while waiting. */
export function waitingLine(what: string, owner: LockOwner | null, me = hostname()): string {
  if (!owner) return `waiting for ${what} (locked by another process)`;
  const where = owner.host === me ? '' : ` on ${owner.host}`;
  return `waiting for ${what} (locked by pid ${owner.pid}${where} since ${owner.since})`;
}

export async function readOwner(lockFile: string): Promise<LockOwner | null> {
  try {
    const o = JSON.parse(await readFile(ownerFile(lockFile), 'utf8')) as LockOwner;
    return Number.isInteger(o.pid) && typeof o.host === 'string' && typeof o.since === 'string' ? o : null;
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Start flock on `lockFile`; resolves once the lock is held, or null when --nonblock found it taken. */
async function hold(lockFile: string, wait: boolean): Promise<Release | null> {
  const args = ['--exclusive', ...(wait ? [] : ['--nonblock', '--conflict-exit-code', String(CONFLICT)]), lockFile];
  // The shell says when the lock is held, then cat holds it until our end of stdin closes.
  const p = spawn('flock', [...args, 'sh', '-c', 'echo locked; exec cat >/dev/null'], { stdin: 'pipe', buffer: false, stderr: 'pipe' });
  let err = '';
  p.stderr?.on('data', (c: Buffer) => (err += String(c)));
  const held = await new Promise<boolean>((resolve) => {
    p.stdout?.once('data', () => resolve(true));
    void p.then(() => resolve(false));
  });
  if (!held) {
    const r = await p;
    if (r.exitCode === CONFLICT) return null;
    const why = (r as { code?: string }).code === 'ENOENT' ? 'flock(1) not found (install util-linux)' : err.trim() || r.shortMessage;
    throw infraError(`cannot lock ${lockFile}: ${why}`);
  }
  let released: Promise<void> | undefined;
  // Idempotent: a second call (Ctrl-C cleanup, then finally) must not remove the next holder's owner file.
  return () =>
    (released ??= (async () => {
      await rm(ownerFile(lockFile), { force: true });
      p.stdin?.end();
      await p;
    })());
}

/**
 * Take the exclusive lock on `lockFile` (created if needed), waiting for the
 * current holder if there is one; `onWait` gets one line naming `what` and the
 * holder. Resolves to the function that releases it.
 */
export async function acquireLock(lockFile: string, what: string, onWait: (line: string) => void): Promise<Release> {
  await mkdir(dirname(lockFile), { recursive: true });
  let release = await hold(lockFile, false);
  // The holder writes its owner file just after taking the lock, and a killed
  // holder leaves its old one behind: give a live owner (or the lock) a moment.
  for (let i = 0; !release && i < 10; i++) {
    const o = await readOwner(lockFile);
    if (o && (o.host !== hostname() || pidAlive(o.pid))) {
      onWait(waitingLine(what, o));
      release = (await hold(lockFile, true))!;
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
    release = await hold(lockFile, false);
  }
  if (!release) {
    onWait(waitingLine(what, null));
    release = (await hold(lockFile, true))!;
  }
  const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
  // Written by rename so a reader never sees half a file.
  const tmp = `${ownerFile(lockFile)}.${process.pid}`;
  await writeFile(tmp, JSON.stringify(me));
  await rename(tmp, ownerFile(lockFile));
  return release;
}
