// make bench: cold build, ccache-warm rebuild, incremental rebuild after
// touching one .c file, kseries cache hit, and boot-to-results under TCG and
// KVM. Works in its own temporary tree copy and caches, so it never touches
// the user's cache. Figures only: medians and ratios from one run.
import { mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CacheStore } from '../cache/store.ts';
import { exitCodeFor, parseConsole } from '../console/parse-console.ts';
import { buildGuest } from '../image/guest.ts';
import { buildInitramfs } from '../image/initramfs.ts';
import { buildKernel, compilerVersion, makeKernelImage, makePlan } from '../kernel/build.ts';
import { configureKernel, requestedConfig } from '../kernel/configure.ts';
import { resolveTree, type SourceTree } from '../kernel/tree.ts';
import type { ArchDef } from '../model/arch.ts';
import { chooseAccel, hostProbe, type Accel } from '../qemu/accel.ts';
import { bootKernel } from '../qemu/runner.ts';
import { infraError } from '../util/errors.ts';
import { runCommand } from '../util/proc.ts';
import type { Progress } from '../run/progress.ts';
import { formatDuration } from '../util/duration.ts';
import { formatBenchTable, ratio, type Measurement } from './stats.ts';

export interface BenchOptions {
  arch: ArchDef;
  fragments: string[];
  repeat: number;
  outDir: string;
  /** Scratch space (tree copy, build dirs, ccaches); removed afterwards. */
  workDir: string;
  /** Where the default tarball's unpacked tree may be read from. */
  cacheRoot: string;
  /** The one source file touched for the incremental rebuild. */
  touchFile: string;
}

export async function runBench(o: BenchOptions, progress: Progress): Promise<string[]> {
  await mkdir(o.workDir, { recursive: true });
  const requested = await requestedConfig(o.fragments, []);
  // A private copy of the tree, so touching a file for the incremental build changes nothing shared.
  const shared = await resolveTree({ kind: 'default' }, { store: new CacheStore(o.cacheRoot), log: (m) => progress.stage('bench', m) });
  const srcDir = join(o.workDir, 'src');
  progress.stage('bench', `copying ${shared.srcDir} to ${srcDir}`);
  const cp = await runCommand('cp', ['-a', shared.srcDir, srcDir]);
  if (cp.exitCode !== 0) throw infraError(`cannot copy the tree: ${cp.stderr.trim()}`);
  const tree: SourceTree = { ...shared, srcDir, identity: `bench:${shared.identity}` };

  const cold: Measurement = { name: 'cold build (empty ccache)', samplesMs: [] };
  const warm: Measurement = { name: 'rebuild, ccache warm', samplesMs: [] };
  const incr: Measurement = { name: `incremental (touch ${o.touchFile})`, samplesMs: [] };
  const hit: Measurement = { name: 'kseries build cache hit', samplesMs: [] };
  const tcg: Measurement = { name: 'boot to results, TCG', samplesMs: [] };
  const kvm: Measurement = { name: 'boot to results, KVM', samplesMs: [] };

  const build = async (m: Measurement, dir: string, ccacheRoot: string | null) => {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await configureKernel({ srcDir, buildDir: dir, arch: o.arch, requested });
    const plan = await makePlan(srcDir, o.arch, { ccacheRoot });
    const r = await makeKernelImage(plan, dir, join(o.workDir, 'build.log'), (n) => progress.live('bench', `${m.name}: ${n} objects`));
    if (r.exitCode !== 0) throw infraError(`bench build failed; see ${join(o.workDir, 'build.log')}`);
    m.samplesMs.push(r.ms);
    progress.stage('bench', `${m.name}: ${formatDuration(r.ms)}`);
  };

  const warmCcache = join(o.workDir, 'ccache-warm');
  for (let i = 0; i < o.repeat; i++) {
    // Each cold build gets an empty ccache; the first one's is kept to warm the rebuilds.
    await build(cold, join(o.workDir, 'build-cold'), i === 0 ? warmCcache : join(o.workDir, `ccache-cold-${i}`));
  }
  const lastDir = join(o.workDir, 'build-warm');
  for (let i = 0; i < o.repeat; i++) await build(warm, lastDir, warmCcache);
  const plan = await makePlan(srcDir, o.arch, { ccacheRoot: warmCcache });
  for (let i = 0; i < o.repeat; i++) {
    const later = new Date(Date.now() + 1000 * (i + 1));
    await utimes(join(srcDir, o.touchFile), later, later);
    const r = await makeKernelImage(plan, lastDir, join(o.workDir, 'build.log'));
    if (r.exitCode !== 0) throw infraError('bench incremental build failed');
    incr.samplesMs.push(r.ms);
    progress.stage('bench', `${incr.name}: ${formatDuration(r.ms)}`);
  }

  // The kseries cache: the first buildKernel fills an entry, the rest are hits.
  const store = new CacheStore(join(o.workDir, 'kseries-cache'));
  const logPath = join(o.workDir, 'kbuild.log');
  await buildKernel({ tree, arch: o.arch, requested, patchesId: '', store, logPath });
  for (let i = 0; i < o.repeat; i++) {
    const t0 = Date.now();
    await buildKernel({ tree, arch: o.arch, requested, patchesId: '', store, logPath });
    hit.samplesMs.push(Date.now() - t0);
  }

  const kernel = join(lastDir, o.arch.image);
  const guest = await buildGuest(store, await compilerVersion());
  const initrd = join(o.workDir, 'initramfs.cpio');
  const fs = await buildInitramfs({ arch: o.arch, guestDir: guest.dir, probes: guest.probes, abis: Object.keys(o.arch.probeAbis), probeTimeoutSec: 60, execs: [], execTimeoutSec: 60, adds: [] });
  await writeFile(initrd, fs.cpio);
  const boots = async (m: Measurement, accel: Accel) => {
    for (let i = 0; i < o.repeat; i++) {
      const consolePath = join(o.workDir, `console-${accel.accel}.log`);
      const r = await bootKernel({ arch: o.arch, accel, kernelImage: kernel, initrd, consolePath, silenceMs: 120_000, overallMs: 600_000 });
      const code = exitCodeFor(parseConsole(await readFile(consolePath, 'utf8')));
      if (code !== 0) throw infraError(`bench boot under ${accel.accel} did not pass (exit ${code}); see ${consolePath}`);
      m.samplesMs.push(r.elapsedMs);
    }
    progress.stage('bench', `${m.name}: done`);
  };
  await boots(tcg, await chooseAccel('tcg', o.arch.qemuBinary, hostProbe()));
  try {
    await boots(kvm, await chooseAccel('kvm', o.arch.qemuBinary, hostProbe()));
  } catch (e) {
    kvm.unavailable = `unavailable: ${(e as Error).message}`;
  }

  const all = [cold, warm, incr, hit, tcg, kvm];
  const lines = [
    ...formatBenchTable(all, formatDuration),
    `ratios (medians): cold/warm ${ratio(cold, warm)} · cold/incremental ${ratio(cold, incr)} · warm/cache-hit ${ratio(warm, hit)} · TCG/KVM boot ${ratio(tcg, kvm)}`,
  ];
  await writeFile(join(o.outDir, 'bench.json'), JSON.stringify({ kernel: tree.version, repeat: o.repeat, measurements: all }, null, 2) + '\n');
  await writeFile(join(o.outDir, 'bench.txt'), lines.join('\n') + '\n');
  await rm(o.workDir, { recursive: true, force: true });
  return lines;
}
