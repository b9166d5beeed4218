import t from 'tap';
import { describeDropped, findDropped, formatKconfig, mergeKconfig, parseKconfig, parseKconfigArg, renameQuestions, withDeclaredNames } from '../harness/kernel/kconfig.ts';

t.test('parses set, unset, strings and ignores comments', async (t) => {
  const c = parseKconfig('# comment\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C="x y"\nCONFIG_D=0x10\n\n');
  t.same([...c], [['CONFIG_A', 'y'], ['CONFIG_B', 'n'], ['CONFIG_C', '"x y"'], ['CONFIG_D', '0x10']]);
});

t.test('round-trips through formatKconfig', async (t) => {
  const text = 'CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=m\n';
  t.equal(formatKconfig(parseKconfig(text)), text);
});

t.test('later configs win when merging', async (t) => {
  const m = mergeKconfig(parseKconfig('CONFIG_A=y\nCONFIG_B=y'), parseKconfig('# CONFIG_B is not set\nCONFIG_C=y'));
  t.equal(m.get('CONFIG_A'), 'y');
  t.equal(m.get('CONFIG_B'), 'n');
  t.equal(m.get('CONFIG_C'), 'y');
});

t.test('--kconfig arguments accept names with and without the prefix', async (t) => {
  t.same(parseKconfigArg('CONFIG_KASAN=y'), ['CONFIG_KASAN', 'y']);
  t.same(parseKconfigArg('IO_URING=n'), ['CONFIG_IO_URING', 'n']);
  t.throws(() => parseKconfigArg('KASAN'), /CONFIG_NAME=value/);
});

t.test('a requested option olddefconfig dropped is named', async (t) => {
  const requested = parseKconfig('CONFIG_IO_URING=y\nCONFIG_KASAN=y\n# CONFIG_SWAP is not set\nCONFIG_PCI=y');
  const actual = parseKconfig('CONFIG_IO_URING=y\n# CONFIG_KASAN is not set\nCONFIG_PCI=m');
  const dropped = findDropped(requested, actual);
  t.same(dropped.map((d) => d.option), ['CONFIG_KASAN', 'CONFIG_PCI'], 'absent SWAP counts as not set, as requested');
  t.equal(describeDropped(dropped), 'CONFIG_KASAN=y (got not set), CONFIG_PCI=y (got m)');
  t.same(findDropped(requested, mergeKconfig(requested)), []);
});

t.test('a renamed option is requested under the name the tree declares', async (t) => {
  const req = parseKconfig('CONFIG_A=y\nCONFIG_X86_X32_ABI=y\nCONFIG_B=y\n');
  const only = (...names: string[]) => (n: string) => names.includes(n);
  t.same(renameQuestions(req), ['X86_X32_ABI', 'X86_X32'], 'only renamed options are asked about, both names');
  t.same(renameQuestions(parseKconfig('CONFIG_A=y\n')), [], 'nothing to ask');
  const old = withDeclaredNames(req, only('A', 'B', 'X86_X32'));
  t.same([...old.config], [['CONFIG_A', 'y'], ['CONFIG_X86_X32', 'y'], ['CONFIG_B', 'y']], 'the old name, in the same place');
  t.same(old.renamed, [['CONFIG_X86_X32_ABI', 'CONFIG_X86_X32']]);
  const current = withDeclaredNames(req, only('X86_X32_ABI', 'X86_X32'));
  t.same([...current.config], [...req], 'a tree that declares the current name keeps it');
  t.same(current.renamed, []);
  t.same([...withDeclaredNames(req, only()).config], [...req], 'neither declared: left as asked, to be reported as dropped');
  const both = parseKconfig('CONFIG_X86_X32_ABI=y\n# CONFIG_X86_X32 is not set\n');
  t.same([...withDeclaredNames(both, only('X86_X32')).config], [...both], 'an old name asked for itself is not overridden');
});
