// The virtual machine a kernel boots in: CPUs, memory, CPU model, extra QEMU
// devices and kernel command-line words. Data plus one pure function that
// turns it into QEMU arguments; the arch's own arguments (console, display,
// -no-reboot) stay in model/arch.ts.
import { usageError } from '../util/errors.ts';
import { runCommand, type CommandRunner } from '../util/proc.ts';

export interface VmSpec {
  /** -smp: virtual CPUs. More than one needs CONFIG_SMP, which kseries then asks for (see smpKconfig). */
  smp: number;
  /** -m, in MiB. */
  memoryMb: number;
  /** -cpu MODEL[,+feature...]; absent: QEMU's default for the machine (qemu64, which has no xsave). */
  cpu?: string;
  /** Further QEMU arguments (devices), after the machine's own. */
  qemuArgs: string[];
  /** Words appended to the arch's kernel command line. */
  cmdline: string[];
}

export const DEFAULT_VM: Readonly<VmSpec> = Object.freeze({ smp: 1, memoryMb: 512, qemuArgs: [], cmdline: [] });

/** What a profile's "vm" object or the command line may set: any subset. */
export type VmOverrides = Partial<VmSpec>;

/** Later overrides win field by field; argument and command-line lists add up. */
export function mergeVm(...layers: (VmOverrides | undefined)[]): VmSpec {
  const vm: VmSpec = { ...DEFAULT_VM, qemuArgs: [], cmdline: [] };
  for (const l of layers) {
    if (!l) continue;
    if (l.smp !== undefined) vm.smp = l.smp;
    if (l.memoryMb !== undefined) vm.memoryMb = l.memoryMb;
    if (l.cpu !== undefined) vm.cpu = l.cpu;
    vm.qemuArgs.push(...(l.qemuArgs ?? []));
    vm.cmdline.push(...(l.cmdline ?? []));
  }
  return vm;
}

/** Pure: the QEMU arguments for the machine size and model. */
export function vmQemuArgs(vm: VmSpec): string[] {
  return ['-m', String(vm.memoryMb), '-smp', String(vm.smp), ...(vm.cpu ? ['-cpu', vm.cpu] : []), ...vm.qemuArgs];
}

/**
 * A guest with several CPUs needs an SMP kernel, and one that can find them:
 * under QEMU 7.2, SeaBIOS's MP table lists only the boot CPU ("Processors: 1",
 * "smpboot: Allowing 1 CPUs" on a -smp 2 boot without ACPI), so the CPUs come
 * from ACPI's MADT. tinyconfig has neither.
 */
export function smpKconfig(vm: VmSpec): [string, string][] {
  return vm.smp > 1 ? [['CONFIG_SMP', 'y'], ['CONFIG_ACPI', 'y']] : [];
}

/** `qemu-system-x86_64 -cpu help` lines look like "x86 Skylake-Client  Intel Core ...": the model names. */
export function parseCpuModels(help: string): Set<string> {
  const models = new Set<string>();
  for (const line of help.split('\n')) {
    const m = /^x86\s+(\S+)/.exec(line.trim());
    if (m) models.add(m[1]!);
  }
  return models;
}

/** The model part of a -cpu value: "max,+xsave" → "max". */
export function cpuModel(cpu: string): string {
  return cpu.split(',')[0]!;
}

const modelsByBinary = new Map<string, Promise<Set<string>>>();

/**
 * A CPU model QEMU does not know is bad input: say so before anything is built,
 * with the binary's own list (`-cpu help`, asked once per binary).
 */
export async function checkCpuModel(vm: VmSpec, qemuBinary: string, run: CommandRunner = runCommand): Promise<void> {
  if (!vm.cpu) return;
  let models = modelsByBinary.get(qemuBinary);
  if (!models) {
    models = run(qemuBinary, ['-cpu', 'help']).then((r) => parseCpuModels(r.stdout));
    modelsByBinary.set(qemuBinary, models);
  }
  const have = await models;
  // No list (QEMU missing): the boot says so itself, as an infrastructure error.
  if (have.size === 0) return;
  const model = cpuModel(vm.cpu);
  if (!have.has(model)) {
    const near = [...have].filter((m) => m.toLowerCase().startsWith(model.slice(0, 3).toLowerCase())).slice(0, 6);
    throw usageError(`--cpu ${vm.cpu}: ${qemuBinary} has no CPU model '${model}'${near.length ? ` (similar: ${near.join(', ')})` : ''}; see ${qemuBinary} -cpu help`);
  }
}
