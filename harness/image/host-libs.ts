// A dynamically linked program needs its ELF interpreter and shared
// libraries in the guest, at the paths its loader will look in. The host's
// own loader knows them: `ldd` (glibc's tool) lists the closure, each at the
// path the host resolved it to, and the guest's loader (the same one, copied
// in) searches those same directories. The parser is pure; the listing runs
// the host's ldd, which cannot list x32 programs (the host kernel runs none).
import { runCommand, type CommandRunner } from '../util/proc.ts';

export interface LddResult {
  /** The interpreter and libraries, as absolute host paths (symlinks not resolved). */
  paths: string[];
  /** Sonames ldd could not find. */
  missing: string[];
  /** ldd said the file is static (or not dynamic): nothing to add. */
  isStatic: boolean;
}

/**
 * Pure: parse ldd's output.
 *   linux-gate.so.1 (0xf7f81000)                    the vDSO: no file
 *   libc.so.6 => /lib32/libc.so.6 (0xf7d46000)      a library
 *   /lib/ld-linux.so.2 (0xf7f83000)                 the interpreter
 *   libfoo.so.1 => not found
 *   statically linked | not a dynamic executable
 */
export function parseLdd(text: string): LddResult {
  const paths: string[] = [];
  const missing: string[] = [];
  let isStatic = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (/^(statically linked|not a dynamic executable)$/.test(line)) {
      isStatic = true;
      continue;
    }
    const arrow = /^(\S+)\s+=>\s+(.*?)(?:\s+\(0x[0-9a-f]+\))?$/.exec(line);
    if (arrow) {
      if (arrow[2] === 'not found') missing.push(arrow[1]!);
      else if (arrow[2]!.startsWith('/')) paths.push(arrow[2]!);
      continue;
    }
    const bare = /^(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(line);
    if (bare) paths.push(bare[1]!);
  }
  return { paths: [...new Set(paths)], missing, isStatic };
}

export type LibraryLister = (hostPath: string) => Promise<LddResult | { error: string }>;

/** The host's ldd on one file. */
export function hostLibraries(run: CommandRunner = runCommand): LibraryLister {
  return async (hostPath) => {
    const r = await run('ldd', [hostPath]);
    if (r.spawnError) return { error: `cannot run ldd: ${r.spawnError}` };
    const parsed = parseLdd(`${r.stdout}\n${r.stderr}`);
    // ldd exits 1 for "not a dynamic executable", which is an answer, not a failure.
    if (r.exitCode !== 0 && !parsed.isStatic && parsed.paths.length === 0) {
      return { error: (r.stderr.trim().split('\n')[0] ?? '') || `ldd exited ${r.exitCode}` };
    }
    return parsed;
  };
}
