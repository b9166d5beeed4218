// Data-only definitions per guest kernel architecture (after kunit_tool's qemu_configs/).

export interface ArchDef {
  /** Name used on the command line and in cache keys. */
  name: string;
  /** make ARCH= value. */
  makeArch: string;
  /** Kernel image, relative to the build dir. */
  image: string;
  /** make target that produces it. */
  imageTarget: string;
  /**
   * The assembler source that `.incbin`s the compressed kernel into the image
   * (relative to the build dir), checked after every build: see kernel/payload.ts.
   */
  payloadSource?: string;
  /** Config fragment under patches/base/. */
  fragment: string;
  qemuBinary: string;
  /** Display, serial and reboot arguments, before the VM's size (qemu/vm.ts) and -kernel/-initrd/-append. */
  qemuArgs: readonly string[];
  /** Kernel command line: serial console; panic=-1 + -no-reboot makes a panic end QEMU at once. */
  cmdline: string;
  /** ABI of the guest's init binary (images/out/<abi>/init). */
  initAbi: GuestBinaryAbi;
  /**
   * Probe ABIs that run on this kernel: name → directory of the probe binaries.
   * On x86_64, i386 binaries exercise the compat syscall layer, and so do x32
   * ones (64-bit registers, 32-bit pointers, in_compat_syscall() true).
   */
  probeAbis: Readonly<Record<string, GuestBinaryAbi>>;
  /** The probe ABIs a run on this kernel uses when none are asked for. */
  defaultAbis: readonly string[];
}

/** The guest binary directories images/Makefile builds (its ABIS). */
export type GuestBinaryAbi = 'x86_64' | 'i386' | 'x32';

export const X86_64: ArchDef = Object.freeze({
  name: 'x86_64',
  makeArch: 'x86_64',
  image: 'arch/x86/boot/bzImage',
  imageTarget: 'bzImage',
  payloadSource: 'arch/x86/boot/compressed/piggy.S',
  fragment: 'x86_64.config',
  qemuBinary: 'qemu-system-x86_64',
  qemuArgs: Object.freeze(['-display', 'none', '-serial', 'stdio', '-monitor', 'none', '-no-reboot']),
  // syscall.x32=y: Debian's trees can build x32 disabled by default (X86_X32_DISABLED,
  // which the base fragment turns off); other kernels ignore a dotted unknown parameter.
  cmdline: 'console=ttyS0 panic=-1 rdinit=/init syscall.x32=y',
  initAbi: 'x86_64',
  probeAbis: Object.freeze({ compat: 'i386', native64: 'x86_64', x32: 'x32' }),
  defaultAbis: Object.freeze(['compat', 'native64']),
});

/** A native 32-bit kernel from the same tree and patches: the reference for what compat should match. */
export const I386: ArchDef = Object.freeze({
  name: 'i386',
  makeArch: 'i386',
  image: 'arch/x86/boot/bzImage',
  imageTarget: 'bzImage',
  payloadSource: X86_64.payloadSource,
  fragment: 'i386.config',
  qemuBinary: 'qemu-system-i386',
  qemuArgs: X86_64.qemuArgs,
  cmdline: 'console=ttyS0 panic=-1 rdinit=/init',
  initAbi: 'i386',
  probeAbis: Object.freeze({ native32: 'i386' }),
  defaultAbis: Object.freeze(['native32']),
});

export const ARCHES: Readonly<Record<string, ArchDef>> = Object.freeze({ x86_64: X86_64, i386: I386 });

/** Every probe ABI, from the arch data (compat, native64, x32, native32). */
export const ALL_ABIS: readonly string[] = Object.freeze(Object.values(ARCHES).flatMap((a) => Object.keys(a.probeAbis)));

/** The ABIs a run uses when none are asked for: those of the x86_64 kernel. */
export const DEFAULT_ABIS: readonly string[] = X86_64.defaultAbis;

/** Which kernel each probe ABI needs. */
export function archForAbi(abi: string): ArchDef | undefined {
  return Object.values(ARCHES).find((a) => abi in a.probeAbis);
}
