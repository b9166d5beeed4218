// runPipeline's typed run record (results.json's `run`) with fake stages: no kernel, no QEMU boot.
// The field names and their order are results.json's, which users and tests read.
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X86_64 } from '../harness/model/arch.ts';
import { runPipeline, type PipelineStages } from '../harness/run/pipeline.ts';
import { Progress } from '../harness/run/progress.ts';

const root = mkdtempSync(join(tmpdir(), 'kseries-record-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

t.test('one plain run of a git tree: the record has every field, in results.json order', async (t) => {
  const guestDir = join(root, 'guest');
  mkdirSync(join(guestDir, 'x86_64'), { recursive: true });
  writeFileSync(join(guestDir, 'x86_64', 'init'), 'fake init');
  const image = join(root, 'bzImage.src');
  writeFileSync(image, 'fake kernel');
  const console = readFileSync(new URL('./fixtures/console/all-pass.log', import.meta.url), 'utf8');
  const stages: PipelineStages = {
    resolveTree: async () => ({ srcDir: join(root, 'src'), identity: `tarball:${'a'.repeat(64)}`, describe: 'linux-6.1.tar.xz', version: '6.1.158', isGit: true }),
    buildKernel: async () => ({
      key: 'k'.repeat(24), cacheHit: true, entryDir: join(root, 'entry'), buildDir: join(root, 'entry', 'build'), kernelImage: image,
      configText: 'CONFIG_X=y\n', compiler: 'gcc 12', configMs: 5, buildMs: 0, buildArgs: ['bzImage'], buildEnv: {},
    }),
    buildGuest: async () => ({ dir: guestDir, cacheHit: true, probes: [] }),
    bootKernel: async (req) => {
      writeFileSync(req.consolePath, console);
      return { exitCode: 0, elapsedMs: 10, stderr: '  \n' };
    },
  };
  const runDir = join(root, 'run');
  const out = await runPipeline(
    {
      tree: { kind: 'tarball', location: join(root, 'linux.tar.xz'), sha256: 'a'.repeat(64) }, arch: X86_64, fragments: [], kconfig: [], accel: 'tcg',
      cacheRoot: join(root, 'cache'), runDir, probes: [], abis: ['compat'], adds: [], execs: [], probeTimeoutSec: 60, execTimeoutSec: 60, bootTimeoutSec: 60, stages,
    },
    new Progress({ write: () => true }, false),
  );
  const r = out.record;
  t.same(Object.keys(r), ['runDir', 'arch', 'cache', 'kernelVersion', 'tree', 'treeIdentity', 'buildKey', 'buildCacheHit', 'compiler', 'accel', 'accelReason', 'qemu', 'qemuExit', 'stages']);
  t.match(r, { runDir, arch: 'x86_64', kernelVersion: '6.1.158', tree: 'linux-6.1.tar.xz', buildKey: 'k'.repeat(24), buildCacheHit: true, compiler: 'gcc 12', accel: 'tcg', accelReason: 'requested with --accel tcg', qemuExit: 0 });
  t.notOk('qemuStderr' in r, 'blank QEMU stderr is left out, as JSON left out the undefined');
  t.same(r.stages.map((s) => s.name), ['tree', 'config', 'build', 'image', 'boot']);
  t.equal(out.stages, r.stages);
  t.equal(readFileSync(join(runDir, 'bzImage'), 'utf8'), 'fake kernel', 'rundir: bzImage copied');
  t.equal(readFileSync(join(runDir, 'config'), 'utf8'), 'CONFIG_X=y\n', 'rundir: config');
  t.ok(readFileSync(join(runDir, 'initramfs.cpio')).length > 0, 'rundir: initramfs.cpio');
  t.match(readFileSync(join(runDir, 'reproducer.sh'), 'utf8'), /^#!\/bin\/sh/, 'rundir: reproducer.sh');
  t.equal(typeof readFileSync(join(runDir, 'plan'), 'utf8'), 'string', 'rundir: plan');
});
