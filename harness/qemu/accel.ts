// Decide between KVM and TCG. /dev/kvm can exist on hosts where KVM is only
// a paravirtual module (no vmx/svm): there `-cpu host` aborts QEMU and other
// CPU models crawl, so KVM is used only when it demonstrably works.
import { access, constants, readFile } from 'node:fs/promises';
import { infraError } from '../util/errors.ts';
import { runCommand, type CommandRunner } from '../util/proc.ts';

export type AccelChoice = 'auto' | 'kvm' | 'tcg';

export interface Accel {
  accel: 'kvm' | 'tcg';
  /** QEMU arguments selecting it. */
  args: string[];
  reason: string;
}

export const TCG: Accel = { accel: 'tcg', args: ['-accel', 'tcg'], reason: '' };

export interface AccelProbe {
  kvmDevice: () => Promise<boolean>;
  cpuHasVirt: () => Promise<boolean>;
  /** Does `qemu -accel kvm -cpu host` start and keep running briefly? */
  qemuKvmStarts: (qemu: string) => Promise<{ ok: boolean; why: string }>;
}

export const hostProbe = (run: CommandRunner = runCommand): AccelProbe => ({
  kvmDevice: async () => access('/dev/kvm', constants.R_OK | constants.W_OK).then(() => true, () => false),
  cpuHasVirt: async () => /\b(vmx|svm)\b/.test(await readFile('/proc/cpuinfo', 'utf8').catch(() => '')),
  qemuKvmStarts: async (qemu) => {
    // A machine with no kernel that sits paused: if KVM init fails, QEMU exits at once.
    const r = await run(qemu, ['-accel', 'kvm', '-cpu', 'host', '-machine', 'pc', '-display', 'none', '-monitor', 'none', '-S', '-nodefaults'], {
      timeout: 3000,
    });
    if (r.spawnError) return { ok: false, why: r.spawnError };
    // Still running when our timeout killed it: KVM initialised.
    if (r.timedOut) return { ok: true, why: '' };
    return { ok: false, why: r.stderr.trim().split('\n')[0] || `exit ${r.exitCode}` };
  },
});

export async function chooseAccel(choice: AccelChoice, qemu: string, probe: AccelProbe): Promise<Accel> {
  if (choice === 'tcg') return { ...TCG, reason: 'requested with --accel tcg' };
  let why = '';
  if (!(await probe.kvmDevice())) why = 'no usable /dev/kvm';
  else if (!(await probe.cpuHasVirt())) why = '/dev/kvm exists but the CPU exposes no vmx/svm (paravirtual KVM: -cpu host aborts, other models crawl)';
  else {
    const started = await probe.qemuKvmStarts(qemu);
    if (!started.ok) why = `qemu -accel kvm -cpu host failed: ${started.why}`;
  }
  if (why === '') return { accel: 'kvm', args: ['-accel', 'kvm', '-cpu', 'host'], reason: 'KVM works here' };
  if (choice === 'kvm') throw infraError(`--accel kvm: KVM is not usable here: ${why}`);
  return { ...TCG, reason: `TCG because ${why}` };
}
