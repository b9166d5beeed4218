import t from 'tap';
import { chooseAccel, type AccelProbe } from '../harness/qemu/accel.ts';

const probe = (kvm: boolean, virt: boolean, starts: boolean, calls: string[] = []): AccelProbe => ({
  kvmDevice: async () => (calls.push('dev'), kvm),
  cpuHasVirt: async () => (calls.push('cpu'), virt),
  qemuKvmStarts: async () => (calls.push('qemu'), { ok: starts, why: starts ? '' : 'error: failed to set MSR 0x10a' }),
});

t.test('auto uses KVM only when device, CPU flags and QEMU all agree', async (t) => {
  const ok = await chooseAccel('auto', 'qemu', probe(true, true, true));
  t.equal(ok.accel, 'kvm');
  t.same(ok.args, ['-accel', 'kvm', '-cpu', 'host']);
});

t.test('paravirtual /dev/kvm without vmx/svm falls back to TCG and says why', async (t) => {
  const calls: string[] = [];
  const a = await chooseAccel('auto', 'qemu', probe(true, false, true, calls));
  t.equal(a.accel, 'tcg');
  t.match(a.reason, /no vmx\/svm/);
  t.notOk(calls.includes('qemu'), 'does not even try to start QEMU with -cpu host');
});

t.test('QEMU aborting with -cpu host falls back to TCG', async (t) => {
  const a = await chooseAccel('auto', 'qemu', probe(true, true, false));
  t.equal(a.accel, 'tcg');
  t.match(a.reason, /MSR 0x10a/);
});

t.test('no /dev/kvm: auto gives TCG, --accel kvm is an infrastructure error (exit 3)', async (t) => {
  t.equal((await chooseAccel('auto', 'qemu', probe(false, true, true))).accel, 'tcg');
  await t.rejects(chooseAccel('kvm', 'qemu', probe(false, true, true)), { exitCode: 3, message: /KVM is not usable here: no usable \/dev\/kvm/ });
});

t.test('--accel tcg never probes', async (t) => {
  const calls: string[] = [];
  const a = await chooseAccel('tcg', 'qemu', probe(true, true, true, calls));
  t.equal(a.accel, 'tcg');
  t.same(calls, []);
});
