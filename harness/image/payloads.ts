// Will every program the guest is asked to run actually start? execve() in
// the guest says only "No such file or directory" when a program's ELF
// interpreter or #! interpreter is missing, so ask before the boot, for the
// initramfs being planned: is each path the kernel will open present in it?
// Pure: the caller lists the planned files (see planInitramfs).
import type { ExecFormat } from './exec-format.ts';

export interface GuestFile {
  /** Absolute guest path. */
  path: string;
  mode: number;
  /** What put it there, for messages: "--add ./repro", "--add ./dir (/bin/dir/x)". Absent for kseries' own files. */
  origin?: string;
  /** Known for user files; kseries' own binaries are static and need no check. */
  format?: ExecFormat;
}

export interface GuestExec {
  /** Absolute guest path of the program (argv[0] after the /bin/<name> default). */
  program: string;
  /** For messages: "--exec 'repro -v'". */
  origin: string;
}

/** The kernel follows at most this many interpreters (fs/exec.c, binprm->depth). */
const MAX_DEPTH = 5;

/**
 * One message per problem, empty when every --exec program and every
 * executable file a user added can be started in the guest.
 */
export function checkPayloads(files: ReadonlyMap<string, GuestFile>, execs: readonly GuestExec[]): string[] {
  const problems: string[] = [];
  const checked = new Set<string>();

  const chain = (f: GuestFile, origin: string, depth: number): string | null => {
    const fmt = f.format;
    if (!fmt || depth > MAX_DEPTH) return null;
    if (fmt.kind === 'other') return depth === 0 ? null : `${origin}: ${f.path} is neither an ELF binary nor a #! script`;
    const interp = fmt.interpreter;
    if (interp === undefined) return null;
    const next = files.get(guestPath(interp));
    if (!next) {
      return fmt.kind === 'elf'
        ? `${origin}: dynamically linked (interpreter ${interp}), which the guest does not have; link it -static`
        : `${origin}: script interpreter ${interp} is not in the guest`;
    }
    if ((next.mode & 0o111) === 0) return `${origin}: interpreter ${interp} is not executable in the guest`;
    return chain(next, `${origin} via ${interp}`, depth + 1);
  };

  for (const e of execs) {
    const f = files.get(e.program);
    if (!f) {
      problems.push(`${e.origin}: ${e.program} is not in the guest (put it there with --add)`);
      continue;
    }
    if ((f.mode & 0o111) === 0) {
      problems.push(`${e.origin}: ${e.program} is not executable (mode ${(f.mode & 0o777).toString(8).padStart(4, '0')})`);
      continue;
    }
    if (f.format?.kind === 'other') {
      problems.push(`${e.origin}: ${e.program} is neither an ELF binary nor a #! script`);
      continue;
    }
    checked.add(f.path);
    const p = chain(f, f.origin ?? e.origin, 0);
    if (p) problems.push(p);
  }
  // Executables added but not run directly may still be run by what is (a selftest runner and its tests).
  for (const f of files.values()) {
    if (!f.origin || checked.has(f.path) || (f.mode & 0o111) === 0) continue;
    const p = chain(f, f.origin, 0);
    if (p) problems.push(p);
  }
  return [...new Set(problems)];
}

/** The kernel resolves a relative interpreter against the cwd, which is / for the init's children. */
function guestPath(p: string): string {
  return p.startsWith('/') ? p : `/${p}`;
}
