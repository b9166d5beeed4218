// Build-dir reuse on a synthetic "kernel": a toy Makefile with the targets
// kseries drives (tinyconfig, olddefconfig, bzImage) and one object per .c
// file, in a git repo whose commits are the source states.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CacheStore } from '../harness/cache/store.ts';
import { buildKernel } from '../harness/kernel/build.ts';
import { configureKernel } from '../harness/kernel/configure.ts';
import { buildFamily, configInputsHash, findSeed, gitTreeOf, pickNearest, treeDistance, type SeedCandidate } from '../harness/kernel/seed.ts';
import type { SourceTree } from '../harness/kernel/tree.ts';
import { X86_64 } from '../harness/model/arch.ts';
import { runCommand } from '../harness/util/proc.ts';
import { tempDirs, toyKernelRepo } from './fixtures/build/temp.ts';

const tmp = tempDirs('reuse');

// Recipes print kbuild-style lines, so the object counter counts them.
const RULES = `objs := $(patsubst %.c,$(O)/%.o,$(notdir $(wildcard $(SRC)/*.c)))
$(O)/%.o: $(SRC)/%.c
\t@echo "  CC      $*.o"; cp $< $@
$(O)/arch/x86/boot/bzImage: $(objs)
\t@mkdir -p $(dir $@); cat $^ > $@; echo "  LD      vmlinux"
`;

function toyTree() {
  const { dir, git, state } = toyKernelRepo(tmp('src'), RULES, { 'a.c': 'a1\n', 'b.c': 'b1\n', 'c.c': 'c1\n' });
  const commit = (file: string, text: string) => {
    writeFileSync(join(dir, file), text);
    git('commit', '-qam', `change ${file}`);
  };
  return { dir, git, state, commit };
}

async function build(store: CacheStore, tree: SourceTree, runDir: string) {
  let objects = 0;
  const logs: string[] = [];
  const r = await buildKernel({
    tree, arch: X86_64, requested: new Map(), store, logPath: join(runDir, 'build.log'),
    jobs: 1, onObjects: (n) => (objects = n), log: (m) => logs.push(m),
  });
  return { r, objects, logs };
}

t.test('a one-file change rebuilds one object, from a copy of the nearest entry', async (t) => {
  const toy = toyTree();
  const store = new CacheStore(tmp('cache'));
  const runDir = tmp('run');
  const first = await build(store, toy.state(), runDir);
  t.equal(first.r.cacheHit, false);
  t.equal(first.objects, 4, 'cold: three objects and the link');
  const firstImage = readFileSync(first.r.kernelImage, 'utf8');

  toy.commit('b.c', 'b2\n');
  const second = await build(store, toy.state(), runDir);
  t.equal(second.r.cacheHit, false, 'a new key');
  t.not(second.r.key, first.r.key);
  t.equal(second.objects, 2, 'only b.o and the link');
  t.match(second.logs.join('\n'), new RegExp(`starting from the build dir of ${first.r.key} \\(1 source file\\(s\\) differ\\)`));
  t.match(second.logs.join('\n'), /config inputs unchanged/, 'the config step is skipped');
  t.equal(readFileSync(second.r.kernelImage, 'utf8'), 'a1\nb2\nc1\n', 'the new image has the new sources');
  t.equal(readFileSync(first.r.kernelImage, 'utf8'), firstImage, 'the published entry it came from is unchanged');
  const rec = JSON.parse(readFileSync(join(second.r.entryDir, 'entry.json'), 'utf8'));
  t.equal(rec.seededFrom, first.r.key);
  t.equal(rec.seedDistance, 1);

  // Back to a state next to the first one: the nearest is chosen, not the newest.
  toy.commit('b.c', 'b1\n');
  const third = await build(store, toy.state(), runDir);
  t.equal(third.r.key, first.r.key, 'the same sources are the first key again');
  t.equal(third.r.cacheHit, true);

  toy.commit('c.c', 'c3\n');
  const fourth = await build(store, toy.state(), runDir);
  t.match(fourth.logs.join('\n'), new RegExp(`build dir of ${first.r.key} \\(1 source`), 'one file from the first entry, two from the second');
  // b.c went back to its first content, but with a newer mtime: make (rightly) recompiles it too.
  t.equal(fourth.objects, 3, 'c.o, the re-checked-out b.o and the link');
  t.equal(readFileSync(fourth.r.kernelImage, 'utf8'), 'a1\nb1\nc3\n');
});

t.test('a Kconfig change runs the config step; an identical .config keeps its mtime', async (t) => {
  const toy = toyTree();
  const store = new CacheStore(tmp('cache'));
  const runDir = tmp('run');
  const first = await build(store, toy.state(), runDir);
  const old = new Date(Date.now() - 3600_000);
  utimesSync(join(first.r.buildDir, '.config'), old, old); // so a rewrite would show
  toy.commit('Kconfig', 'config TINY\n\tbool "tiny, reworded"\n');
  const second = await build(store, toy.state(), runDir);
  t.match(second.logs.join('\n'), /configuring x86_64/, 'Kconfig changed: configure');
  t.ok(Math.abs(statSync(join(second.r.buildDir, '.config')).mtimeMs - old.getTime()) < 1, 'same content: .config not rewritten');
  t.equal(second.objects, 0, 'nothing recompiled');
});

t.test('configureKernel replaces a .config whose content changes', async (t) => {
  const toy = toyTree();
  const buildDir = tmp('o');
  writeFileSync(join(buildDir, '.config'), 'CONFIG_OLD=y\n');
  const r = await configureKernel({ srcDir: toy.dir, buildDir, arch: X86_64, requested: new Map([['CONFIG_TINY', 'y']]) });
  t.match(r.configText, /CONFIG_TINY=y/);
  t.equal(readFileSync(join(buildDir, '.config'), 'utf8'), r.configText);
});

t.test('seed selection', async (t) => {
  const c = (distance: number, at: string): SeedCandidate => ({ dir: at, distance, record: { key: at, at } });
  t.equal(pickNearest([]), null);
  t.equal(pickNearest([c(3, '2026-01-01'), c(1, '2025-01-01'), c(2, '2027-01-01')])!.dir, '2025-01-01', 'fewest files win');
  t.equal(pickNearest([c(1, '2025-01-01'), c(1, '2026-01-01')])!.dir, '2026-01-01', 'ties go to the newest');
  t.equal(gitTreeOf(`git-tree:${'a'.repeat(40)}`), 'a'.repeat(40));
  t.equal(gitTreeOf(`git:${'b'.repeat(40)}`), 'b'.repeat(40), 'a clean checkout');
  t.equal(gitTreeOf(`git:${'b'.repeat(40)}+dirty:0123`), null, 'uncommitted changes have no git tree');
  t.equal(gitTreeOf('tarball:abc'), null);
  t.notSame(buildFamily({ srcDir: '/a', arch: 'x86_64', requestedConfig: '', compiler: 'gcc' }), buildFamily({ srcDir: '/b', arch: 'x86_64', requestedConfig: '', compiler: 'gcc' }), 'another source path is another family');

  const toy = toyTree();
  const t1 = toy.git('rev-parse', 'HEAD^{tree}');
  toy.commit('a.c', 'a2\n');
  toy.commit('b.c', 'b2\n');
  const t2 = toy.git('rev-parse', 'HEAD^{tree}');
  t.equal(await treeDistance(runCommand, toy.dir, t1, t2), 2);
  t.equal(await treeDistance(runCommand, toy.dir, t1, 'f'.repeat(40)), null, 'an unknown tree is no candidate');
  const h1 = await configInputsHash(runCommand, toy.dir, t1, 'x86_64', '');
  t.equal(await configInputsHash(runCommand, toy.dir, t2, 'x86_64', ''), h1, '.c changes leave the config inputs alone');
  t.not(await configInputsHash(runCommand, toy.dir, t2, 'i386', ''), h1);
  // Kconfig's $(shell,...) runs top-level scripts such as scripts/cc-version.sh.
  execFileSync('mkdir', ['-p', join(toy.dir, 'scripts')]);
  writeFileSync(join(toy.dir, 'scripts', 'cc-version.sh'), 'echo GCC 12\n');
  toy.git('add', 'scripts/cc-version.sh');
  toy.git('commit', '-qm', 'scripts');
  const t3 = toy.git('rev-parse', 'HEAD^{tree}');
  t.not(await configInputsHash(runCommand, toy.dir, t3, 'x86_64', ''), h1, 'a script Kconfig runs is a config input');

  const store = new CacheStore(tmp('cache'));
  const seed = await findSeed({ store, family: 'f', sourceTree: t2, repoDir: toy.dir });
  t.equal(seed, null, 'an empty cache has no seed');
});
