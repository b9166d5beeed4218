// Initramfs layout: init, probe binaries per ABI, the plan, user payloads,
// and the /dev/console node the kernel needs before devtmpfs is mounted.
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import type { ArchDef } from '../model/arch.ts';
import { usageError } from '../util/errors.ts';
import { writeCpio, withParents, type CpioEntry } from './cpio.ts';
import { execId, formatPlan, splitCommand, type PlanEntry } from './plan.ts';

/** nobody: what "an unprivileged user" means for a probe that asks to run as one. */
export const UNPRIVILEGED_UID = 65534;

export interface UserAdd {
  hostPath: string;
  guestPath: string;
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
}

export interface Initramfs {
  cpio: Buffer;
  plan: PlanEntry[];
  planText: string;
}

async function addTree(host: string, guest: string, out: CpioEntry[]): Promise<void> {
  let st;
  try {
    st = await stat(host);
  } catch {
    throw usageError(`--add ${host}: no such file or directory`);
  }
  if (st.isDirectory()) {
    out.push({ type: 'dir', name: guest });
    for (const name of (await readdir(host)).sort()) await addTree(join(host, name), posix.join(guest, name), out);
  } else {
    out.push({ type: 'file', name: guest, data: await readFile(host), mode: st.mode & 0o777 });
  }
}

export async function buildInitramfs(req: InitramfsRequest): Promise<Initramfs> {
  const entries: CpioEntry[] = [
    { type: 'dir', name: 'dev' },
    { type: 'char', name: 'dev/console', major: 5, minor: 1, mode: 0o600 },
    { type: 'dir', name: 'proc' },
    { type: 'dir', name: 'sys' },
    { type: 'dir', name: 'tmp', mode: 0o1777 },
    { type: 'file', name: 'init', data: await readFile(join(req.guestDir, req.arch.initAbi, 'init')), mode: 0o755 },
  ];
  const plan: PlanEntry[] = [];
  for (const probe of req.probes) {
    for (const abi of req.abis) {
      const binAbi = req.arch.probeAbis[abi];
      if (!binAbi) throw usageError(`ABI '${abi}' does not run on a ${req.arch.name} kernel (have: ${Object.keys(req.arch.probeAbis).join(', ')})`);
      const guest = `/kseries/bin/${binAbi}/${probe}`;
      if (!entries.some((e) => e.name === guest.slice(1))) {
        entries.push({ type: 'file', name: guest, data: await readFile(join(req.guestDir, binAbi, probe)), mode: 0o755 });
      }
      plan.push({ id: `${probe}:${abi}`, timeoutSec: req.probeTimeoutSec, uid: 0, argv: [guest] });
      if (req.unprivileged?.includes(probe)) {
        plan.push({ id: `${probe}_unpriv:${abi}`, timeoutSec: req.probeTimeoutSec, uid: UNPRIVILEGED_UID, argv: [guest] });
      }
    }
  }
  for (const add of req.adds) await addTree(add.hostPath, add.guestPath, entries);
  const taken = new Set<string>();
  for (const cmd of req.execs) {
    const argv = splitCommand(cmd);
    if (argv.length === 0) throw usageError('--exec needs a command');
    // No shell and no PATH search in the guest: a bare name means /bin/<name>.
    if (!argv[0]!.includes('/')) argv[0] = `/bin/${argv[0]}`;
    plan.push({ id: execId(argv[0]!, taken), timeoutSec: req.execTimeoutSec, uid: 0, argv });
  }
  const planText = formatPlan(plan);
  entries.push({ type: 'file', name: 'kseries/plan', data: Buffer.from(planText) });
  return { cpio: writeCpio(withParents(entries)), plan, planText };
}
