// The VM: size and model as QEMU arguments, layers (profile, then flags),
// SMP asked of the kernel, CPU models checked against QEMU's own list.
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCpuModel, DEFAULT_VM, mergeVm, parseCpuModels, smpKconfig, vmQemuArgs } from '../harness/qemu/vm.ts';
import { qemuArgv } from '../harness/qemu/runner.ts';
import { vmFrom } from '../harness/commands/options.ts';
import { X86_64 } from '../harness/model/arch.ts';
import { loadProfile } from '../harness/profile/profile.ts';

const TCG = { accel: 'tcg' as const, args: ['-accel', 'tcg'], reason: 'test' };

t.test('defaults, layers and QEMU arguments', async (t) => {
  t.same(vmQemuArgs(mergeVm()), ['-m', '512', '-smp', '1']);
  const vm = mergeVm({ smp: 2, cpu: 'max', qemuArgs: ['-device', 'virtio-rng-pci'], cmdline: ['quiet'] }, { memoryMb: 1024, cpu: 'Skylake-Client,+xsave', cmdline: ['nokaslr'] });
  t.same(vm, { smp: 2, memoryMb: 1024, cpu: 'Skylake-Client,+xsave', qemuArgs: ['-device', 'virtio-rng-pci'], cmdline: ['quiet', 'nokaslr'] });
  const argv = qemuArgv({ arch: X86_64, accel: TCG, kernelImage: '/k', initrd: '/i', vm });
  t.same(argv.slice(argv.indexOf('-m'), argv.indexOf('-kernel')), ['-m', '1024', '-smp', '2', '-cpu', 'Skylake-Client,+xsave', '-device', 'virtio-rng-pci']);
  t.equal(argv.at(-1), `${X86_64.cmdline} quiet nokaslr`);
  t.same(smpKconfig(vm), [['CONFIG_SMP', 'y'], ['CONFIG_ACPI', 'y']]);
  t.same(smpKconfig(DEFAULT_VM), []);
  t.same(vmFrom({ smp: 4, append: ['a b', 'c'], qemuArg: ['-nic', 'none'] }, { cpu: 'max', smp: 2 }), { smp: 4, memoryMb: 512, cpu: 'max', qemuArgs: ['-nic', 'none'], cmdline: ['a', 'b', 'c'] });
});

t.test("CPU models: QEMU's list, checked before anything is built", async (t) => {
  const help = 'Available CPUs:\nx86 486                   (alias configured by machine type)\nx86 max                   Enables all features\nx86 qemu64                (alias)\n\nRecognized CPUID flags:\n  fpu\n';
  t.same([...parseCpuModels(help)], ['486', 'max', 'qemu64']);
  const run = async () => ({ exitCode: 0, stdout: help, stderr: '', failed: false, timedOut: false });
  await t.resolves(checkCpuModel(mergeVm({ cpu: 'max,+xsave' }), 'fake-qemu-a', run));
  await t.rejects(checkCpuModel(mergeVm({ cpu: 'maxx' }), 'fake-qemu-b', run), { message: "--cpu maxx: fake-qemu-b has no CPU model 'maxx' (similar: max); see fake-qemu-b -cpu help" });
  await t.resolves(checkCpuModel(mergeVm({}), 'fake-qemu-c', async () => { throw new Error('not asked'); }), 'no --cpu: nothing asked');
});

t.test('a profile\'s "vm", validated', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-vm-profile-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const write = (vm: unknown) => writeFile(join(dir, 'profile.json'), JSON.stringify({ description: 'd', base: { kernel: '6.1' }, probes: [], variants: { base: { patches: [] } }, vm }));
  await write({ smp: 2, memory: 1024, cpu: 'max', qemuArgs: ['-device', 'virtio-rng-pci'], cmdline: 'quiet nokaslr' });
  t.same((await loadProfile(dir)).vm, { smp: 2, memoryMb: 1024, cpu: 'max', qemuArgs: ['-device', 'virtio-rng-pci'], cmdline: ['quiet', 'nokaslr'] });
  await write({ smp: 0 });
  await t.rejects(loadProfile(dir), { message: /"vm": "smp" must be a whole number from 1 to 64/ });
  await write({ memry: 5 });
  await t.rejects(loadProfile(dir), { message: /"vm": unknown field\(s\) memry/ });
});
