// What a kselftest run gets unless told otherwise: kseries' own config
// fragments (patches/selftests/) and the VM.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { VmOverrides } from '../qemu/vm.ts';
import { PATCHES_DIR } from '../util/paths.ts';

/** kseries' own fragments for kselftest kernels: what tinyconfig lacks that the tests need (patches/selftests/). */
export const SELFTESTS_FRAGMENTS_DIR = join(PATCHES_DIR, 'selftests');

/** common.config for every target, then <target>.config where kseries has one (the tree's own <target>/config comes after). */
export function selftestFragments(targets: readonly string[]): string[] {
  return [join(SELFTESTS_FRAGMENTS_DIR, 'common.config'), ...targets.map((t) => join(SELFTESTS_FRAGMENTS_DIR, `${t}.config`)).filter((p) => existsSync(p))];
}

/**
 * The VM kselftest gets unless --smp/--cpu/the profile say otherwise: two CPUs
 * (the timer and ptrace tests race threads), and QEMU's "max" CPU model, since
 * qemu64 has no xsave, which x86's xstate tests need to get past their first
 * check. Without SMAP: under QEMU 7.2's TCG with -cpu max, x86's
 * test_syscall_vdso_32 and sysret_ss_attrs_64 each ended in a kernel Oops
 * ("supervisor read access in user mode" at a user RIP), and with -smap
 * neither did, on the same kernel.
 */
export const SELFTESTS_VM: VmOverrides = Object.freeze({ smp: 2, cpu: 'max,-smap' });

