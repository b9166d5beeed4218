// What the guest must be given so that the planned programs start: the ELF
// interpreter and shared libraries of a dynamically linked program (from the
// host, where ldd finds them), a script's interpreter, and a shell. The shell
// is Debian's busybox-static, put in when asked for (--shell) or when a
// program or script needs one of its applets (/bin/sh, /usr/bin/env, ...).
// kseries' own files are static; only user payloads are looked at.
import { existsSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import type { ArchDef } from '../model/arch.ts';
import { usageError } from '../util/errors.ts';
import { runCommand, type CommandRunner } from '../util/proc.ts';
import { readExecFormat } from './exec-format.ts';
import { hostLibraries, type LibraryLister } from './host-libs.ts';
import type { LayoutEntry } from './initramfs.ts';
import type { GuestExec } from './payloads.ts';

export interface ShellSource {
  /** Host path of a static busybox. */
  binary: string;
  /** Guest paths of its applets, e.g. /bin/sh, /usr/bin/env. */
  applets: string[];
}

export interface RuntimeOptions {
  arch: ArchDef;
  /** Put the shell in even when nothing needs it (--shell). */
  shell?: boolean;
  libraries?: LibraryLister;
  /** Where the busybox comes from (tests give their own); default: the host's busybox-static. */
  shellSource?: () => Promise<ShellSource>;
}

/** Debian's busybox-static installs /bin/busybox; `busybox --list-full` names its applets. */
export const BUSYBOX = '/bin/busybox';

/**
 * Applets left out: busybox's timeout lacks --foreground, which kselftest's
 * runner passes to /usr/bin/timeout when it exists; without it the runner
 * runs the test without one (the init's per-entry timeout still holds).
 */
const LEFT_OUT_APPLETS = new Set(['/usr/bin/timeout']);

export function hostShell(run: CommandRunner = runCommand): () => Promise<ShellSource> {
  return async () => {
    if (!existsSync(BUSYBOX)) throw usageError(`the guest shell is Debian's busybox-static, and ${BUSYBOX} is missing: run make deps`);
    const r = await run(BUSYBOX, ['--list-full']);
    if (r.exitCode !== 0) throw usageError(`${BUSYBOX} --list-full failed: ${r.spawnError ?? r.stderr.trim()}`);
    return { binary: BUSYBOX, applets: r.stdout.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => `/${l}`) };
  };
}

const norm = (p: string) => posix.normalize(p.startsWith('/') ? p : `/${p}`);

/**
 * Add to `entries` what the payloads need. Returns the lines to log
 * ("guest: + /lib32/libc.so.6 for --add ./repro"). Problems that cannot be
 * fixed (a library the host lacks, an x32 program's libraries, a shell on a
 * kernel that cannot run busybox) are usage errors, before any build.
 */
export async function provideRuntime(entries: LayoutEntry[], execs: readonly GuestExec[], o: RuntimeOptions): Promise<string[]> {
  const notes: string[] = [];
  const has = (p: string) => entries.some((e) => norm(e.name) === norm(p));
  const libs = o.libraries ?? hostLibraries();
  let shell: ShellSource | undefined;
  const shellFor = async (why: string) => {
    if (shell) return shell;
    if (o.arch.initAbi !== 'x86_64') throw usageError(`${why}: the guest shell is busybox-static for x86_64, which a ${o.arch.name} kernel cannot run`);
    shell = await (o.shellSource ?? hostShell())();
    entries.push({ type: 'file', name: norm(BUSYBOX).slice(1), mode: 0o755, source: { host: shell.binary }, format: { kind: 'elf', bits: 64, machine: 62 } });
    for (const a of shell.applets) {
      if (has(a) || LEFT_OUT_APPLETS.has(a)) continue;
      entries.push({ type: 'symlink', name: a.slice(1), target: BUSYBOX });
    }
    notes.push(`guest shell: ${shell.binary} (${shell.applets.length} applets) for ${why}`);
    return shell;
  };
  // Busybox's applet list, asked once; no busybox on the host: no path is an applet (a missing /bin/sh is then named as such).
  let applets: Promise<Set<string>> | undefined;
  const isApplet = async (p: string) => {
    applets ??= (o.shellSource ?? hostShell())().then((s) => new Set(s.applets), () => new Set<string>());
    return (await applets).has(norm(p));
  };

  if (o.shell) await shellFor('--shell');
  // An --exec of a shell applet that nothing provides: `--exec 'sh -c ...'`.
  for (const e of execs) if (!has(e.program) && (await isApplet(e.program))) await shellFor(e.origin);

  // Walk the user's executables (and what gets added for them) until nothing more is needed.
  const done = new Set<string>();
  /** Paths of the interpreters and libraries added here. */
  const ours = new Set<string>();
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.type !== 'file' || !e.format || !e.origin || !e.source || !('host' in e.source) || done.has(e.name)) continue;
    done.add(e.name);
    const fmt = e.format;
    if (fmt.kind === 'script') {
      if (has(fmt.interpreter)) continue;
      if (await isApplet(fmt.interpreter)) {
        await shellFor(`${e.origin} (#!${fmt.interpreter})`);
        continue;
      }
      // Another interpreter (bash, perl): the host's own, if it is a program, with what it needs.
      const host = norm(fmt.interpreter);
      if (existsSync(host)) {
        const f = await readExecFormat(host);
        if (f.kind === 'elf') {
          entries.push({ type: 'file', name: host.slice(1), mode: 0o755, source: { host: await realpath(host) }, origin: `${e.origin} via #!${host}`, format: f });
          notes.push(`guest: + ${host} (the host's) for ${e.origin}`);
        }
      }
      continue;
    }
    // An interpreter the user put in (their own loader) is theirs to complete; one kseries added is not.
    if (fmt.kind !== 'elf' || fmt.interpreter === undefined || (has(fmt.interpreter) && !ours.has(norm(fmt.interpreter)))) continue;
    if (fmt.bits === 32 && fmt.machine === 62) {
      throw usageError(`${e.origin}: an x32 program linked dynamically; the host cannot list its libraries (it runs no x32), so link it -static`);
    }
    const listed = await libs(e.source.host);
    if ('error' in listed) throw usageError(`${e.origin}: cannot list its shared libraries (${listed.error}); link it -static`);
    if (listed.missing.length > 0) throw usageError(`${e.origin}: needs ${listed.missing.join(', ')}, which the host's loader does not find (ldd: not found)`);
    const added: string[] = [];
    for (const p of listed.paths) {
      if (has(p)) continue;
      const real = await realpath(p);
      const st = await stat(real);
      entries.push({ type: 'file', name: norm(p).slice(1), mode: st.mode & 0o777, source: { host: real } });
      ours.add(norm(p));
      added.push(p);
    }
    if (added.length > 0) notes.push(`guest: + ${added.join(', ')} for ${e.origin}`);
  }
  return notes;
}
