// Initramfs layout: init, probe binaries per ABI, the plan, user payloads,
// and the /dev/console node the kernel needs before devtmpfs is mounted.
// Planned first (paths, sources, headers), then read into a cpio.
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import type { ArchDef } from '../model/arch.ts';
import { usageError } from '../util/errors.ts';
import { writeCpio, withParents, type CpioEntry } from './cpio.ts';
import { readExecFormat, type ExecFormat } from './exec-format.ts';
import { checkPayloads, type GuestExec, type GuestFile } from './payloads.ts';
import { provideRuntime, type RuntimeOptions } from './runtime.ts';
import { execId, formatPlan, splitCommand, type PlanEntry } from './init-plan.ts';

/** nobody: what "an unprivileged user" means for a probe that asks to run as one. */
export const UNPRIVILEGED_UID = 65534;

export interface UserAdd {
  hostPath: string;
  guestPath: string;
  /** How messages name it (default "--add HOSTPATH"), e.g. "kselftest x86". */
  label?: string;
}

/** Parse --add PATH[:GUESTPATH]; the default guest path is /bin/<name>. */
export function parseAdd(arg: string): UserAdd {
  const i = arg.indexOf(':');
  const hostPath = i < 0 ? arg : arg.slice(0, i);
  const guestPath = i < 0 ? `/bin/${basename(arg)}` : arg.slice(i + 1);
  if (hostPath === '' || !guestPath.startsWith('/')) throw usageError(`bad --add '${arg}': expected PATH[:/GUEST/PATH]`);
  return { hostPath, guestPath };
}

export interface InitramfsRequest {
  arch: ArchDef;
  /** images build output: <guestDir>/<abi>/{init,<probe>}. */
  guestDir: string;
  probes: string[];
  /** Probe ABIs to run, names from arch.probeAbis (compat, native64). */
  abis: string[];
  probeTimeoutSec: number;
  /** Probes to run a second time as an unprivileged user, reported as "<probe>_unpriv". */
  unprivileged?: string[];
  execs: string[];
  execTimeoutSec: number;
  adds: UserAdd[];
  /** Put the guest shell (busybox) in even when no payload needs it. */
  shell?: boolean;
  /** Entries planned elsewhere (kselftest's tests), run after the probes and before the --exec commands. */
  extraPlan?: PlanEntry[];
  /** Tests: where libraries and the shell come from (default: the host's ldd and busybox-static). */
  runtime?: Pick<RuntimeOptions, 'libraries' | 'shellSource'>;
}

export interface Initramfs {
  cpio: Buffer;
  notes: string[];
  plan: PlanEntry[];
  planText: string;
}

/** Where a planned file's bytes come from: the host, the guest userland build, or memory. */
export type FileSource = { host: string } | { guestBin: string } | { data: Buffer };

export type LayoutEntry =
  | Exclude<CpioEntry, { type: 'file' }>
  | { type: 'file'; name: string; mode: number; source: FileSource; origin?: string; format?: ExecFormat };

/** The initramfs as planned: every path it will hold and the plan, before any file is read in full. */
export interface InitramfsLayout {
  entries: LayoutEntry[];
  /** What was added for the payloads to start (interpreters, libraries, the shell), one line each. */
  notes: string[];
  plan: PlanEntry[];
  planText: string;
}

export type LayoutRequest = Omit<InitramfsRequest, 'guestDir'>;

async function addTree(add: UserAdd, host: string, guest: string, out: LayoutEntry[]): Promise<void> {
  let st;
  try {
    st = await stat(host);
  } catch {
    throw usageError(`--add ${host}: no such file or directory`);
  }
  if (st.isDirectory()) {
    out.push({ type: 'dir', name: guest });
    for (const name of (await readdir(host)).sort()) await addTree(add, join(host, name), posix.join(guest, name), out);
  } else {
    const what = add.label ?? `--add ${add.hostPath}`;
    const origin = host === add.hostPath ? what : `${what} (${guest})`;
    const format = st.mode & 0o111 ? await readExecFormat(host) : undefined;
    out.push({ type: 'file', name: guest, mode: st.mode & 0o777, source: { host }, origin, ...(format ? { format } : {}) });
  }
}

/** The guest's view of a layout: absolute path → file, for checkPayloads. */
export function guestFiles(entries: readonly LayoutEntry[]): Map<string, GuestFile> {
  const files = new Map<string, GuestFile>();
  for (const e of entries) {
    if (e.type !== 'file') continue;
    const path = posix.normalize(`/${e.name}`);
    files.set(path, { path, mode: e.mode, ...(e.origin ? { origin: e.origin } : {}), ...(e.format ? { format: e.format } : {}) });
  }
  // A link (the shell's applets) is the file it points at, as execve() sees it.
  for (const e of entries) {
    if (e.type !== 'symlink') continue;
    const path = posix.normalize(`/${e.name}`);
    const to = files.get(posix.resolve(posix.dirname(path), e.target));
    if (to && !files.has(path)) files.set(path, { ...to, path });
  }
  return files;
}

/**
 * Plan the initramfs and check that every program in it can start (reads only
 * the headers of user files): bad payloads are a usage error before any build.
 */
export async function planInitramfs(req: LayoutRequest): Promise<InitramfsLayout> {
  const entries: LayoutEntry[] = [
    { type: 'dir', name: 'dev' },
    { type: 'char', name: 'dev/console', major: 5, minor: 1, mode: 0o600 },
    { type: 'dir', name: 'proc' },
    { type: 'dir', name: 'sys' },
    { type: 'dir', name: 'tmp', mode: 0o1777 },
    { type: 'file', name: 'init', mode: 0o755, source: { guestBin: join(req.arch.initAbi, 'init') } },
  ];
  const plan: PlanEntry[] = [];
  for (const probe of req.probes) {
    for (const abi of req.abis) {
      const binAbi = req.arch.probeAbis[abi];
      if (!binAbi) throw usageError(`ABI '${abi}' does not run on a ${req.arch.name} kernel (have: ${Object.keys(req.arch.probeAbis).join(', ')})`);
      const guest = `/kseries/bin/${binAbi}/${probe}`;
      if (!entries.some((e) => e.name === guest.slice(1))) {
        entries.push({ type: 'file', name: guest.slice(1), mode: 0o755, source: { guestBin: join(binAbi, probe) } });
      }
      plan.push({ id: `${probe}:${abi}`, timeoutSec: req.probeTimeoutSec, uid: 0, argv: [guest] });
      if (req.unprivileged?.includes(probe)) {
        plan.push({ id: `${probe}_unpriv:${abi}`, timeoutSec: req.probeTimeoutSec, uid: UNPRIVILEGED_UID, argv: [guest] });
      }
    }
  }
  for (const add of req.adds) await addTree(add, add.hostPath, add.guestPath, entries);
  plan.push(...(req.extraPlan ?? []));
  const taken = new Set<string>();
  const execs: GuestExec[] = [];
  for (const cmd of req.execs) {
    const argv = splitCommand(cmd);
    if (argv.length === 0) throw usageError('--exec needs a command');
    // No shell and no PATH search in the guest: a bare name means /bin/<name>.
    if (!argv[0]!.includes('/')) argv[0] = `/bin/${argv[0]}`;
    execs.push({ program: posix.normalize(argv[0]!.startsWith('/') ? argv[0]! : `/${argv[0]}`), origin: `--exec '${cmd}'` });
    plan.push({ id: execId(argv[0]!, taken), timeoutSec: req.execTimeoutSec, uid: 0, argv });
  }
  const notes = await provideRuntime(entries, execs, { arch: req.arch, ...(req.shell ? { shell: true } : {}), ...req.runtime });
  const problems = checkPayloads(guestFiles(entries), execs);
  if (problems.length > 0) throw usageError(problems.join('; '));
  const planText = formatPlan(plan);
  entries.push({ type: 'file', name: 'kseries/plan', mode: 0o644, source: { data: Buffer.from(planText) } });
  return { entries, notes, plan, planText };
}

export async function buildInitramfs(req: InitramfsRequest): Promise<Initramfs> {
  const layout = await planInitramfs(req);
  const entries: CpioEntry[] = [];
  for (const e of layout.entries) {
    if (e.type !== 'file') {
      entries.push(e);
      continue;
    }
    const s = e.source;
    const data = 'data' in s ? s.data : await readFile('host' in s ? s.host : join(req.guestDir, s.guestBin));
    entries.push({ type: 'file', name: e.name, data, mode: e.mode });
  }
  return { cpio: writeCpio(withParents(entries)), plan: layout.plan, planText: layout.planText, notes: layout.notes };
}
