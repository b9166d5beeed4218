// The image must hold the kernel the build made (harness/kernel/payload.ts).
// The bug this guards against is real ccache behaviour, reproduced here on a
// toy "kernel" whose bzImage carries piggy.o's .incbin payload: a manifest
// left by ccache's depend mode makes a later build get an older piggy.o.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CacheStore } from '../harness/cache/store.ts';
import { buildKernel, makePlan } from '../harness/kernel/build.ts';
import { incbinTarget, payloadMismatch, payloadObject } from '../harness/kernel/payload.ts';
import { X86_64 } from '../harness/model/arch.ts';
import { tempDirs, toyKernelRepo } from './fixtures/build/temp.ts';

const tmp = tempDirs('payload');

const P = 'arch/x86/boot/compressed';
const PIGGY_S = `.section ".rodata..compressed","a",@progbits\n.globl input_data\ninput_data:\n.incbin "${P}/vmlinux.bin.xz"\n`;
// The one compile command, as the toy Makefile runs it (cwd: the build dir) and as the poisoning run repeats it.
const ASM = ['-c', '-MD', '-MF', `${P}/.piggy.o.d`, `${P}/piggy.S`, '-o', `${P}/piggy.o`];

t.test('incbinTarget reads the file an assembler source includes', async (t) => {
  t.equal(incbinTarget(PIGGY_S), `${P}/vmlinux.bin.xz`);
  t.equal(incbinTarget('z_input_len = 12\n  .incbin "a b/c.gz"\n'), 'a b/c.gz');
  t.equal(incbinTarget('.section .rodata\n.long 1\n'), null);
  t.equal(incbinTarget('# .incbin "x" in a comment line\n'), null);
});

t.test('payloadMismatch: held, not held, and nothing to check', async (t) => {
  const b = tmp('check');
  mkdirSync(join(b, P), { recursive: true });
  t.equal(await payloadMismatch(b, X86_64), null, 'no piggy.S: this build system makes no payload, nothing to check');
  writeFileSync(join(b, P, 'piggy.S'), PIGGY_S);
  t.match(await payloadMismatch(b, X86_64), /vmlinux\.bin\.xz, named by .*piggy\.S, is missing/);
  writeFileSync(join(b, P, 'vmlinux.bin.xz'), 'NEW-KERNEL-PAYLOAD');
  t.match(await payloadMismatch(b, X86_64), /bzImage is missing/);
  writeFileSync(join(b, X86_64.image), Buffer.concat([Buffer.from('setup'), Buffer.from('OLD-KERNEL-PAYLOAD'), Buffer.from('tail')]));
  t.match(await payloadMismatch(b, X86_64), /bzImage does not hold arch\/x86\/boot\/compressed\/vmlinux\.bin\.xz: its arch\/x86\/boot\/compressed\/piggy\.o carries an older kernel/);
  writeFileSync(join(b, X86_64.image), Buffer.concat([Buffer.from('setup'), Buffer.from('NEW-KERNEL-PAYLOAD'), Buffer.from('tail')]));
  t.equal(await payloadMismatch(b, X86_64), null);
  t.equal(payloadObject(X86_64), `${P}/piggy.o`);
  t.equal(await payloadMismatch(b, { ...X86_64, payloadSource: undefined }), null, 'an arch without a payload source is not checked');
});

// A toy kernel: kernel.c is "vmlinux"; the image is piggy.o's payload section, as in a bzImage.
const RULES = `P := ${P}
$(O)/$(P)/vmlinux.bin.xz: $(SRC)/kernel.c
\t@mkdir -p $(dir $@); cp $< $@; echo "  XZKERN  $(P)/vmlinux.bin.xz"
$(O)/$(P)/piggy.S: $(O)/$(P)/vmlinux.bin.xz
\t@cp $(SRC)/piggy.S.in $@
$(O)/$(P)/piggy.o: $(O)/$(P)/piggy.S
\t@echo "  AS      $(P)/piggy.o"; cd $(O) && $(CC) ${ASM.join(' ')}
$(O)/arch/x86/boot/bzImage: $(O)/$(P)/piggy.o
\t@objcopy -O binary -j .rodata..compressed $< $@; echo "  BUILD   arch/x86/boot/bzImage"
`;

const toyTree = (kernel: string) => toyKernelRepo(tmp('src'), RULES, { 'piggy.S.in': PIGGY_S, 'kernel.c': kernel });

const hasCcache = (() => {
  try {
    execFileSync('ccache', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

t.test('a stale piggy.o from ccache is found and made again without ccache', { skip: hasCcache ? false : 'ccache is not installed (make deps installs it)' }, async (t) => {
  const store = new CacheStore(tmp('cache'));
  const plan = await makePlan('/unused', X86_64, { ccacheRoot: store.root });
  t.equal(plan.env.CCACHE_NODEPEND, '1', 'kseries turns depend mode off for its builds');

  // An earlier build, in depend mode, of a kernel of the same size: it leaves a manifest for piggy.S.
  const old = tmp('old');
  mkdirSync(join(old, P), { recursive: true });
  writeFileSync(join(old, P, 'piggy.S'), PIGGY_S);
  writeFileSync(join(old, P, 'vmlinux.bin.xz'), 'OLD-KERNEL-PAYLOAD');
  execFileSync('ccache', ['gcc', ...ASM], { cwd: old, env: { ...process.env, ...plan.env, CCACHE_NODEPEND: '', CCACHE_DEPEND: '1' } });
  // What ccache alone does with that cache: the object it returns carries the old payload.
  const probe = tmp('probe');
  mkdirSync(join(probe, P), { recursive: true });
  writeFileSync(join(probe, P, 'piggy.S'), PIGGY_S);
  writeFileSync(join(probe, P, 'vmlinux.bin.xz'), 'NEW-KERNEL-PAYLOAD');
  execFileSync('ccache', ['gcc', ...ASM], { cwd: probe, env: { ...process.env, ...plan.env } });
  execFileSync('objcopy', ['-O', 'binary', '-j', '.rodata..compressed', `${P}/piggy.o`, 'payload'], { cwd: probe });
  t.equal(readFileSync(join(probe, 'payload'), 'utf8'), 'OLD-KERNEL-PAYLOAD', 'ccache itself hands back the old piggy.o (the bug being guarded against)');

  const toy = toyTree('NEW-KERNEL-PAYLOAD');
  const runDir = tmp('run');
  const logs: string[] = [];
  const r = await buildKernel({ tree: toy.state(), arch: X86_64, requested: new Map(), store, logPath: join(runDir, 'build.log'), jobs: 1, log: (m) => logs.push(m) });
  t.equal(readFileSync(r.kernelImage, 'utf8'), 'NEW-KERNEL-PAYLOAD', 'the image holds the kernel built');
  t.ok(logs.some((l) => /bzImage does not hold .*vmlinux\.bin\.xz.*; making arch\/x86\/boot\/compressed\/piggy\.o again without ccache/.test(l)), 'the repair is logged');
  t.equal(readFileSync(join(runDir, 'build.log'), 'utf8').match(/ AS +/g)?.length, 2, 'build.log has both makes of piggy.o');
  t.equal(await payloadMismatch(r.buildDir, X86_64), null);
});

t.test('a published entry whose image does not hold its kernel is not used', async (t) => {
  const notes: string[] = [];
  const store = new CacheStore(tmp('cache'), { onNote: (l) => notes.push(l) });
  const toy = toyTree('KERNEL-A');
  const runDir = tmp('run');
  const go = () => buildKernel({ tree: toy.state(), arch: X86_64, requested: new Map(), store, logPath: join(runDir, 'build.log'), jobs: 1 });
  const first = await go();
  t.equal(first.cacheHit, false);
  t.equal((await go()).cacheHit, true, 'a sound entry is a hit');
  // The entry's image stays as published (the manifest holds), but no longer matches its payload.
  writeFileSync(join(first.buildDir, P, 'vmlinux.bin.xz'), 'KERNEL-B');
  const again = await go();
  t.equal(again.cacheHit, false, 'built again');
  t.ok(notes.some((l) => /is unusable: arch\/x86\/boot\/bzImage does not hold .*; rebuilding it/.test(l)), 'with a note saying why');
  t.equal(readFileSync(again.kernelImage, 'utf8'), 'KERNEL-A');
});
