// make bench: each figure the speed issue asks for, measured in one run as a
// median of several samples, beside the floor it is compared with. kseries is
// run as users run it (the CLI, in a child process, on private caches under
// the scratch dir); the floors are plain make in an O= dir of a copy of the
// same sources. Samples of kseries and of its floor alternate, so load on the
// machine falls on both alike. Figures only, never assertions.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeArgv } from '../kernel/configure.ts';
import { isCompileLine } from '../kernel/build-log.ts';
import type { ArchDef } from '../model/arch.ts';
import type { Progress } from '../run/progress.ts';
import { formatDuration } from '../util/duration.ts';
import { infraError } from '../util/errors.ts';
import { PACKAGE_ROOT } from '../util/paths.ts';
import { runCommand } from '../util/proc.ts';
import { appendLine, appendPatchMail, benchLine } from './edits.ts';
import { formatBenchTable, type Figure } from './stats.ts';

export const BENCH_ROWS = ['cold', 'variant', 'prefix', 'run', 'test-kernel'] as const;
export type BenchRow = (typeof BENCH_ROWS)[number];

export interface BenchOptions {
  arch: ArchDef;
  repeat: number;
  rows: readonly BenchRow[];
  outDir: string;
  /** Scratch space (private caches, source copy, O= dirs); removed afterwards. */
  workDir: string;
  /** The file the one-file variant changes (the offline profile's variants change it too). */
  variantFile: string;
  /** One file per bisect prefix patch (distinct .c files built in the base config). */
  prefixFiles: readonly string[];
  /** The profile `make test-kernel` decides. */
  testKernelProfile: string;
  jobs: number;
}

const BIN = join(PACKAGE_ROOT, 'bin', 'kseries.js');

interface RunStages { [name: string]: number }

export async function runBench(o: BenchOptions, progress: Progress): Promise<string[]> {
  await mkdir(o.workDir, { recursive: true });
  const say = (m: string) => progress.stage('bench', m);
  const figs = {
    cold: { name: 'cold build / plain make, same .config, fresh O=', samplesMs: [], floorMs: [], target: '<= 1.1x' } as Figure,
    variant: { name: `one-file variant (${o.variantFile}) / touch floor`, samplesMs: [], floorMs: [], target: '<= 1.5x' } as Figure,
    prefix: { name: 'bisect prefix step (one .c file) / its floor', samplesMs: [], floorMs: [] } as Figure,
    boot: { name: 'boot to results', samplesMs: [] } as Figure,
    run: { name: 'warm `kseries run` (all cached)', samplesMs: [] } as Figure,
    tkCold: { name: `test-kernel, empty cache (claims ${o.testKernelProfile})`, samplesMs: [] } as Figure,
    tkWarm: { name: 'test-kernel, warm', samplesMs: [], target: '<= 30s' } as Figure,
  };
  const notes: string[] = [];
  const want = (r: BenchRow) => o.rows.includes(r);
  const table = () => [...formatBenchTable(Object.values(figs), formatDuration), ...notes];
  const save = async (done: boolean) => {
    const head = done ? [] : ['(incomplete: make bench is still running or stopped early)'];
    await writeFile(join(o.outDir, 'bench.txt'), [...head, ...table()].join('\n') + '\n');
    await writeFile(join(o.outDir, 'bench.json'), JSON.stringify({ done, repeat: o.repeat, arch: o.arch.name, figures: Object.values(figs), notes }, null, 2) + '\n');
  };

  /** kseries itself, as a user runs it; its wall time and what its run dir recorded. */
  const kseries = async (label: string, args: string[]) => {
    const out = join(o.workDir, 'runs', label);
    const t0 = Date.now();
    const r = await runCommand(process.execPath, [BIN, ...args, '--out', out]);
    const ms = Date.now() - t0;
    await writeFile(join(o.workDir, `${label}.log`), r.stdout + r.stderr);
    let stages: RunStages = {};
    try {
      const json = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as { run?: { stages?: { name: string; ms: number }[] } };
      for (const s of json.run?.stages ?? []) stages[s.name] = (stages[s.name] ?? 0) + s.ms;
    } catch {
      stages = {};
    }
    return { exitCode: r.exitCode, ms, stages, out, log: join(o.workDir, `${label}.log`) };
  };
  const mustPass = (r: { exitCode: number; log: string; stages: RunStages }, what: string) => {
    if (r.exitCode !== 0) throw infraError(`bench: ${what} exited ${r.exitCode}; see ${r.log}`);
    // A figure is never read as 0 from a results.json that lacks the stages.
    if (r.stages.build === undefined) throw infraError(`bench: ${what} left no build stage time in its results.json; see ${r.log}`);
  };
  const archArgs = ['--accel', 'auto', '--jobs', String(o.jobs)];
  const buildPart = (s: RunStages, withApply: boolean) => (withApply ? (s.apply ?? 0) : 0) + (s.config ?? 0) + (s.build ?? 0);

  /** Plain make, no ccache, no kseries: `make` in an existing O= dir of the copy. */
  const plainMake = async (buildDir: string, ...targets: string[]) => {
    const t0 = Date.now();
    const [make, ...args] = makeArgv(plainSrc, buildDir, o.arch, ...targets);
    const r = await runCommand(make!, args, { all: true });
    if (r.exitCode !== 0) {
      await writeFile(join(o.workDir, 'plain-make.log'), r.stdout + r.stderr);
      throw infraError(`bench: plain make ${targets.join(' ')} failed; see ${join(o.workDir, 'plain-make.log')}`);
    }
    return Date.now() - t0;
  };
  const jobsArg = `-j${o.jobs}`;
  /** The plain cold build: kseries' .config in a fresh O=, olddefconfig, make. */
  const plainCold = async (dir: string, config: string) => {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await copyFile(config, join(dir, '.config'));
    return (await plainMake(dir, 'olddefconfig')) + (await plainMake(dir, jobsArg, o.arch.imageTarget));
  };

  const plainSrc = join(o.workDir, 'plain-src');
  const plainBuild = join(o.workDir, 'plain-build');
  const mainCache = join(o.workDir, 'cache-1');
  const coldSample = async (i: number) => {
    const cache = join(o.workDir, `cache-${i}`);
    say(`cold build ${i}/${o.repeat}: kseries run with an empty cache`);
    const k = await kseries(`cold-${i}`, ['run', '--cache', cache, ...archArgs]);
    mustPass(k, `cold run ${i}`);
    figs.cold.samplesMs.push(buildPart(k.stages, false));
    if (i === 1) {
      const objects = (await readFile(join(k.out, 'build.log'), 'utf8')).split('\n').filter(isCompileLine).length;
      notes.push(`C objects compiled by the cold build of the base config (${o.arch.name}, CC lines of build.log): ${objects}`);
      // The floor's sources: a copy of the worktree kseries built, without its .git.
      const wt = await worktreeOf(cache);
      say(`copying ${wt} for the plain-make floor`);
      const cp = await runCommand('cp', ['-a', '--reflink=auto', wt, plainSrc]);
      if (cp.exitCode !== 0) throw infraError(`bench: cannot copy ${wt}: ${cp.stderr.trim()}`);
      await rm(join(plainSrc, '.git'), { recursive: true, force: true });
    }
    say(`cold build ${i}/${o.repeat}: plain make`);
    const dir = i === 1 ? plainBuild : join(o.workDir, `plain-build-${i}`);
    figs.cold.floorMs!.push(await plainCold(dir, join(k.out, 'config')));
    if (i > 1) {
      await rm(cache, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
    }
    await save(false);
  };

  // Every row needs the base built once, by kseries and by plain make.
  await coldSample(1);
  const pristine = new Map<string, string>();
  const original = async (f: string) => {
    if (!pristine.has(f)) {
      if (!existsSync(join(plainBuild, f.replace(/\.c$/, '.o')))) throw infraError(`bench: ${f} is not built in the ${o.arch.name} base config`);
      pristine.set(f, await readFile(join(plainSrc, f), 'utf8'));
    }
    return pristine.get(f)!;
  };
  const restore = async (files: readonly string[]) => {
    for (const f of files) await writeFile(join(plainSrc, f), await original(f));
    await plainMake(plainBuild, jobsArg, o.arch.imageTarget);
  };

  if (want('variant')) {
    const base = await original(o.variantFile);
    for (let i = 1; i <= o.repeat; i++) {
      say(`one-file variant ${i}/${o.repeat}`);
      const line = benchLine(`v${i}_${process.pid}`);
      const dir = join(o.workDir, `variant-${i}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, '0001-bench.patch'), appendPatchMail(o.variantFile, base, line, `bench: variant ${i}`));
      const k = await kseries(`variant-${i}`, ['run', '--cache', mainCache, '--patches', dir, ...archArgs]);
      mustPass(k, `variant ${i}`);
      figs.variant.samplesMs.push(buildPart(k.stages, true));
      await writeFile(join(plainSrc, o.variantFile), appendLine(base, line));
      figs.variant.floorMs!.push(await plainMake(plainBuild, jobsArg, o.arch.imageTarget));
      await save(false);
    }
    await restore([o.variantFile]);
  }

  if (want('prefix')) {
    const steps = Math.min(o.repeat, o.prefixFiles.length - 1);
    if (steps < o.repeat) notes.push(`prefix steps: ${steps}, one per file after the first`);
    const files = o.prefixFiles.slice(0, steps + 1);
    // Prefix k is a directory holding patches 1..k, as a bisect step applies them.
    const lines = files.map((_, k) => benchLine(`p${k + 1}_${process.pid}`));
    const prefixDir = (k: number) => join(o.workDir, `prefix-${k}`);
    for (let k = 1; k <= files.length; k++) {
      await mkdir(prefixDir(k), { recursive: true });
      for (let j = 1; j <= k; j++) {
        const f = files[j - 1]!;
        const name = `${String(j).padStart(4, '0')}-bench.patch`;
        await writeFile(join(prefixDir(k), name), appendPatchMail(f, await original(f), lines[j - 1]!, `bench: prefix patch ${j}/${files.length}`));
      }
    }
    figs.prefix.name = `bisect prefix step (${files.length}-patch series, one .c file each) / its floor`;
    say(`prefix 1/${files.length} (unmeasured: the step from the base is the variant row)`);
    mustPass(await kseries('prefix-1', ['run', '--cache', mainCache, '--patches', prefixDir(1), ...archArgs]), 'prefix 1');
    await writeFile(join(plainSrc, files[0]!), appendLine(await original(files[0]!), lines[0]!));
    await plainMake(plainBuild, jobsArg, o.arch.imageTarget);
    for (let k = 2; k <= files.length; k++) {
      say(`prefix step ${k - 1}/${steps}: patches 1-${k}`);
      const r = await kseries(`prefix-${k}`, ['run', '--cache', mainCache, '--patches', prefixDir(k), ...archArgs]);
      mustPass(r, `prefix 1-${k}`);
      figs.prefix.samplesMs.push(buildPart(r.stages, true));
      await writeFile(join(plainSrc, files[k - 1]!), appendLine(await original(files[k - 1]!), lines[k - 1]!));
      figs.prefix.floorMs!.push(await plainMake(plainBuild, jobsArg, o.arch.imageTarget));
      await save(false);
    }
    await restore(files);
  }

  if (want('run')) {
    for (let i = 1; i <= o.repeat; i++) {
      say(`warm run ${i}/${o.repeat}`);
      const r = await kseries(`warm-${i}`, ['run', '--cache', mainCache, ...archArgs]);
      mustPass(r, `warm run ${i}`);
      figs.run.samplesMs.push(r.ms);
      if (r.stages.boot !== undefined) figs.boot.samplesMs.push(r.stages.boot);
      await save(false);
    }
    const meta = JSON.parse(await readFile(join(o.workDir, 'runs', 'warm-1', 'results.json'), 'utf8')) as { run?: { accel?: string; accelReason?: string } };
    figs.boot.name = `boot to results (${(meta.run?.accel ?? '?').toUpperCase()})`;
    if (meta.run?.accelReason) notes.push(`accelerator: ${meta.run.accelReason}`);
  }

  if (want('cold')) {
    for (let i = 2; i <= o.repeat; i++) await coldSample(i);
  }

  if (want('test-kernel')) {
    const tkCache = (i: number) => join(o.workDir, `tk-cache-${i}`);
    const claims = (label: string, cache: string) => kseries(label, ['claims', o.testKernelProfile, '--cache', cache, ...archArgs]);
    for (let i = 1; i <= o.repeat; i++) {
      say(`test-kernel ${i}/${o.repeat}, empty cache (two cold kernels and the variants)`);
      const r = await claims(`tk-cold-${i}`, tkCache(i));
      figs.tkCold.samplesMs.push(r.ms);
      if (r.exitCode !== 0) figs.tkCold.note = `exit ${r.exitCode}; see claims.md`;
      if (i > 1) await rm(tkCache(i), { recursive: true, force: true });
      await save(false);
      if (i === 1) {
        for (let j = 1; j <= o.repeat; j++) {
          say(`test-kernel, warm ${j}/${o.repeat}`);
          const w = await claims(`tk-warm-${j}`, tkCache(1));
          figs.tkWarm.samplesMs.push(w.ms);
          if (w.exitCode !== 0) figs.tkWarm.note = `exit ${w.exitCode}`;
          await save(false);
        }
      }
    }
    notes.push('test-kernel rows run `kseries claims` as `make test-kernel` does, without its (then no-op) make deps and dist steps');
  }

  notes.push(`${o.repeat} samples per figure, medians; kseries and its floor alternate; make -j${o.jobs}`);
  await save(true);
  await rm(o.workDir, { recursive: true, force: true });
  return table();
}

/** The shared worktree kseries built in, inside a cache. */
async function worktreeOf(cache: string): Promise<string> {
  const dir = join(cache, 'worktrees');
  for (const n of await readdir(dir).catch(() => [] as string[])) {
    if (existsSync(join(dir, n, 'Makefile'))) return join(dir, n);
  }
  throw infraError(`bench: no kseries worktree under ${dir}`);
}
