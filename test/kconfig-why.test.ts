// Why a requested option was dropped, on a toy Kconfig tree made here: the
// configure stage runs with a fake make whose olddefconfig writes the
// .config the real one would give for this toy tree (no kernel build).
import t from 'tap';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { configureKernel } from '../harness/kernel/configure.ts';
import { evalExpr, splitAnd } from '../harness/kernel/kconfig-expr.ts';
import { kconfigEntries, kconfigStatements } from '../harness/kernel/kconfig-why.ts';
import { parseKconfig } from '../harness/kernel/kconfig.ts';
import { X86_64 } from '../harness/model/arch.ts';
import { KseriesError } from '../harness/util/errors.ts';
import { runCommand, type CommandRunner } from '../harness/util/proc.ts';

const TOY: Record<string, string> = {
  Kconfig: `mainmenu "toy"
source "init/Kconfig"
source "arch/$(SRCARCH)/Kconfig"
`,
  'init/Kconfig': `config MODULES
	bool "Loadable modules"

config HAS_IOMEM
	def_bool n

config PCI
	bool "PCI support"
	depends on HAS_IOMEM

config NET
	bool "Networking"
	help
	  Say Y here. The next line is help text, not an entry:
	  config FAKE

if NET
config NET_FOO
	tristate "foo" if EXPERT
	depends on PCI || \\
		!X86_64
endif

config EXPERT
	bool "expert"

config ONLY_SELECTED
	bool

config SELECTOR
	bool "selects ONLY_SELECTED"
	select ONLY_SELECTED

config BOOLY
	bool "a bool"

config MACRO
	bool "needs a compiler flag"
	depends on $(cc-option,-mfoo)

config FORCED
	bool "forced on"

config FORCER
	def_bool y
	select FORCED

config FREE
	bool "nothing stops it"
`,
  'arch/x86/Kconfig': `config X86_64
	def_bool y
`,
  'arch/arm64/Kconfig': `config ARM64_ONLY
	bool "arm64 thing"
`,
};

/** What olddefconfig leaves for this toy tree, given the requests below. */
const FINAL = `CONFIG_X86_64=y
# CONFIG_MODULES is not set
# CONFIG_PCI is not set
# CONFIG_NET is not set
# CONFIG_EXPERT is not set
# CONFIG_SELECTOR is not set
# CONFIG_BOOLY is not set
# CONFIG_MACRO is not set
CONFIG_FORCED=y
CONFIG_FORCER=y
# CONFIG_FREE is not set
`;

const src = await mkdtemp(join(tmpdir(), 'kseries-toykconfig-'));
t.teardown(() => rm(src, { recursive: true, force: true }));
for (const [file, text] of Object.entries(TOY)) {
  await mkdir(dirname(join(src, file)), { recursive: true });
  await writeFile(join(src, file), text);
}

t.test('expressions use tristate logic over the final .config', async (t) => {
  const c = parseKconfig('CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_NR=8\nCONFIG_S="abc"\n');
  t.equal(evalExpr('A && B', c), 1, 'y && m = m');
  t.equal(evalExpr('A && (C || !B)', c), 1, '!m = m');
  t.equal(evalExpr('!C && A', c), 2);
  t.equal(evalExpr('UNKNOWN', c), 0, 'an absent symbol is n');
  t.equal(evalExpr('B = m', c), 2);
  t.equal(evalExpr('NR >= 4 && S = "abc"', c), 2);
  t.equal(evalExpr('NR < 4', c), 0);
  t.equal(evalExpr('$(cc-option,-mfoo)', c), null, 'macros cannot be decided here');
  t.equal(evalExpr('A && (B', c), null, 'malformed');
  t.same(splitAnd('A && (B && C) && D = "x && y"'), ['A', '(B && C)', 'D = "x && y"']);
});

t.test('Kconfig entries: help text skipped, continuations joined, enclosing if kept', async (t) => {
  const text = TOY['init/Kconfig']!;
  t.notOk(kconfigStatements(text).some((s) => s.keyword === 'config' && s.rest === 'FAKE'), 'help text is not an entry');
  const [e] = kconfigEntries(text, 'NET_FOO', 'init/Kconfig');
  t.same(e?.depends.map((d) => d.expr), ['PCI || !X86_64', 'NET']);
  t.equal(e?.promptIf?.expr, 'EXPERT');
  t.equal(e?.type, 'tristate');
});

/** "init/Kconfig:N" of the first line of init/Kconfig holding `needle`. */
const at = (needle: string) => `init/Kconfig:${TOY['init/Kconfig']!.split('\n').findIndex((l) => l.includes(needle)) + 1}`;

t.test('configure names why each requested option was dropped', async (t) => {
  const build = await mkdtemp(join(tmpdir(), 'kseries-toybuild-'));
  t.teardown(() => rm(build, { recursive: true, force: true }));
  const run: CommandRunner = async (file, args, opts) => {
    if (file !== 'make') return runCommand(file, args, opts);
    const target = args[args.length - 1];
    await writeFile(join(build, '.config'), target === 'tinyconfig' ? 'CONFIG_X86_64=y\n' : FINAL);
    return { exitCode: 0, stdout: '', stderr: '' } as Awaited<ReturnType<CommandRunner>>;
  };
  const requested = parseKconfig(
    ['PCI=y', 'NOPE=y', 'FAKE=y', 'ARM64_ONLY=y', 'BOOLY=m', 'NET_FOO=y', 'ONLY_SELECTED=y', 'MACRO=y', 'FREE=y'].map((x) => `CONFIG_${x}`).join('\n') +
      '\n# CONFIG_FORCED is not set\n',
  );
  let message = '';
  try {
    await configureKernel({ srcDir: src, buildDir: build, arch: X86_64, requested }, run);
  } catch (e) {
    t.ok(e instanceof KseriesError && e.exitCode === 2, 'a usage error, exit 2');
    message = (e as Error).message;
  }
  t.notMatch(message, /\n/, 'one line');
  const parts = new Map(message.replace(/^olddefconfig dropped requested options: /, '').split('; ').map((p) => [p.split(' ')[0]!, p] as const));
  t.equal(parts.get('CONFIG_PCI=y'), `CONFIG_PCI=y (got not set): unmet dependency 'HAS_IOMEM' (HAS_IOMEM=n, at ${at('depends on HAS_IOMEM')})`);
  t.equal(parts.get('CONFIG_NOPE=y'), "CONFIG_NOPE=y (got not set): no 'config NOPE' in this tree's Kconfig files");
  t.equal(parts.get('CONFIG_FAKE=y'), "CONFIG_FAKE=y (got not set): no 'config FAKE' in this tree's Kconfig files");
  t.equal(parts.get('CONFIG_ARM64_ONLY=y'), 'CONFIG_ARM64_ONLY=y (got not set): defined only in arch/arm64/Kconfig, which ARCH=x86 does not read');
  t.equal(parts.get('CONFIG_BOOLY=m'), `CONFIG_BOOLY=m (got not set): it is bool, so it cannot be m (${at('config BOOLY')})`);
  t.equal(
    parts.get('CONFIG_NET_FOO=y'),
    `CONFIG_NET_FOO=y (got not set): unmet dependency 'PCI || !X86_64' (PCI=n, X86_64=y, at ${at('depends on PCI ||')}), 'NET' (NET=n, at ${at('if NET')}), 'EXPERT' (EXPERT=n, at ${at('if EXPERT')})`,
  );
  t.equal(parts.get('CONFIG_ONLY_SELECTED=y'), `CONFIG_ONLY_SELECTED=y (got not set): it has no prompt, so only 'select' can set it (selected by: SELECTOR, none of them set) (${at('config ONLY_SELECTED')})`);
  t.equal(parts.get('CONFIG_MACRO=y'), `CONFIG_MACRO=y (got not set): depends on '$(cc-option,-mfoo)' (${at('cc-option')}), which kseries cannot evaluate`);
  t.equal(parts.get('CONFIG_FORCED=n'), 'CONFIG_FORCED=n (got y): selected by FORCER=y');
  t.equal(parts.get('CONFIG_FREE=y'), `CONFIG_FREE=y (got not set): its dependencies in ${at('config FREE')} are met, so look at an enclosing menu or if where that file is sourced, a choice, or a range (see 'make menuconfig')`);
  t.equal(parts.size, 10, 'every dropped option explained');
  t.equal(await readFile(join(build, '.config'), 'utf8'), FINAL);
});

t.test('configure requests a renamed option under the name the tree declares', async (t) => {
  // make is faked: olddefconfig keeps what was written of the symbols the toy tree declares.
  const run: CommandRunner = async (file, args, opts) => {
    if (file !== 'make') return runCommand(file, args, opts);
    const src = args[args.indexOf('-C') + 1]!;
    const dotConfig = join(args.find((a) => a.startsWith('O='))!.slice(2), '.config');
    if (args[args.length - 1] === 'tinyconfig') await writeFile(dotConfig, 'CONFIG_X86_64=y\n');
    else {
      const declared = new Set([...(await readFile(join(src, 'arch/x86/Kconfig'), 'utf8')).matchAll(/^config (\w+)$/gm)].map((m) => `CONFIG_${m[1]}`));
      const kept = [...parseKconfig(await readFile(dotConfig, 'utf8'))].filter(([k, v]) => k === 'CONFIG_X86_64' || (declared.has(k) && v !== 'n'));
      await writeFile(dotConfig, kept.map(([k, v]) => `${k}=${v}\n`).join(''));
    }
    return { exitCode: 0, stdout: '', stderr: '' } as Awaited<ReturnType<CommandRunner>>;
  };
  const requested = parseKconfig('CONFIG_X86_X32_ABI=y\n');
  for (const [declares, want, renamed] of [
    ['X86_X32', 'CONFIG_X86_X32', [['CONFIG_X86_X32_ABI', 'CONFIG_X86_X32']]],
    ['X86_X32_ABI', 'CONFIG_X86_X32_ABI', []],
  ] as const) {
    const tree = await mkdtemp(join(tmpdir(), 'kseries-toyrename-'));
    const build = await mkdtemp(join(tmpdir(), 'kseries-toyrename-build-'));
    t.teardown(() => Promise.all([rm(tree, { recursive: true, force: true }), rm(build, { recursive: true, force: true })]));
    await mkdir(join(tree, 'arch/x86'), { recursive: true });
    await writeFile(join(tree, 'arch/x86/Kconfig'), `config ${declares}\n\tbool "x32 ABI for 64-bit mode"\n\tdepends on X86_64\n`);
    const r = await configureKernel({ srcDir: tree, buildDir: build, arch: X86_64, requested }, run);
    t.equal(r.final.get(want), 'y', `a tree declaring ${declares} gets ${want}=y`);
    t.same(r.renamed, renamed);
  }
  const neither = await mkdtemp(join(tmpdir(), 'kseries-toyrename-'));
  t.teardown(() => rm(neither, { recursive: true, force: true }));
  await mkdir(join(neither, 'arch/x86'), { recursive: true });
  await writeFile(join(neither, 'arch/x86/Kconfig'), 'config OTHER\n\tbool "other"\n');
  await t.rejects(configureKernel({ srcDir: neither, buildDir: neither, arch: X86_64, requested }, run), /CONFIG_X86_X32_ABI=y \(got not set\): no 'config X86_X32_ABI'/, 'neither name: dropped, and said so');
});
