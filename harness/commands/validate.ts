// Input checks that must fail before anything is created or built. Each throws a usage
// error (exit 2) naming the bad input; the stages repeat none of this.
import { access, constants, readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { listProbes } from '../image/guest.ts';
import { parseAdd, type UserAdd } from '../image/initramfs.ts';
import { splitCommand } from '../image/init-plan.ts';
import { kconfigSyntaxErrors } from '../kernel/kconfig.ts';
import { usageError } from '../util/errors.ts';

/**
 * Report files (--json, --ktap, --junit, --html, --kcidb, --text, --markdown)
 * are written at the end: their directories must exist and be writable before
 * anything is built. '-' (stdout) and unset options pass.
 */
export async function checkOutputFiles(files: Readonly<Record<string, unknown>>): Promise<void> {
  for (const [option, value] of Object.entries(files)) {
    if (typeof value !== 'string' || value === '-' || value === '') continue;
    const path = resolve(value);
    const st = await stat(path).catch(() => null);
    if (st?.isDirectory()) throw usageError(`--${option} ${value}: is a directory, not a file`);
    const dir = dirname(path);
    const d = await stat(dir).catch(() => null);
    if (!d?.isDirectory()) throw usageError(`--${option} ${value}: directory ${dirname(value)} does not exist`);
    if (!(await access(dir, constants.W_OK).then(() => true, () => false))) throw usageError(`--${option} ${value}: directory ${dirname(value)} is not writable`);
  }
}

/** Report-file options of the commands, checked by checkOutputFiles. */
export const OUTPUT_FILE_OPTIONS = ['json', 'ktap', 'junit', 'html', 'kcidb', 'text', 'markdown'] as const;

/** The report-file options a command was given, for checkOutputFiles. */
export function outputFiles(a: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(OUTPUT_FILE_OPTIONS.map((o) => [o, a[o]]));
}

/** Probe names must be probes under images/probes/. */
export async function checkProbes(names: readonly string[]): Promise<void> {
  const known = await listProbes();
  const unknown = names.filter((p) => !known.includes(p));
  if (unknown.length > 0) throw usageError(`unknown probe ${unknown.join(', ')} (have: ${known.join(', ')})`);
}

/** Every --exec must split into words (the guest has no shell) that fit a plan line. */
export function checkExecs(cmds: readonly string[]): void {
  for (const cmd of cmds) {
    let argv: string[];
    try {
      argv = splitCommand(cmd);
    } catch (e) {
      throw usageError(`bad --exec: ${(e as Error).message}`);
    }
    if (argv.length === 0) throw usageError('--exec needs a command');
    if (argv.some((w) => /[\t\n]/.test(w))) throw usageError(`bad --exec '${cmd}': a word contains a tab or newline`);
  }
}

/** --add PATH[:GUESTPATH]: well formed, and PATH exists on the host. */
export async function checkAdds(args: readonly string[]): Promise<UserAdd[]> {
  const adds = args.map(parseAdd);
  for (const a of adds) {
    if (!(await stat(a.hostPath).catch(() => undefined))) throw usageError(`--add ${a.hostPath}: no such file or directory`);
  }
  return adds;
}

/** Config fragments must be readable and hold only CONFIG_X=value lines and comments. */
export async function checkFragments(paths: readonly string[]): Promise<void> {
  for (const p of new Set(paths)) {
    let text: string;
    try {
      text = await readFile(p, 'utf8');
    } catch {
      throw usageError(`config fragment ${p} cannot be read`);
    }
    const bad = kconfigSyntaxErrors(text)[0];
    if (bad) throw usageError(`config fragment ${p}:${bad.line}: expected CONFIG_NAME=value or a # comment, got '${bad.text}'`);
  }
}
