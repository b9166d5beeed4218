// kseries bench: the speed figures as medians beside their floors and ratios (figures, not assertions).
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { BENCH_ROWS, runBench, type BenchRow } from '../bench/measure.ts';
import { X86_64 } from '../model/arch.ts';
import { Progress } from '../run/progress.ts';
import { createRunDir } from '../run/rundir.ts';
import { usageError } from '../util/errors.ts';
import { onInterrupt } from '../util/proc.ts';
import { countOption, outOption } from './options.ts';
import { defaultCacheRoot } from '../cache/store.ts';

const PREFIX_FILES = ['fs/read_write.c', 'lib/iov_iter.c', 'fs/splice.c', 'mm/process_vm_access.c', 'io_uring/rw.c'];

export const benchCommand: CommandModule<object, { repeat: number; rows: string; out?: string; scratch: string; jobs?: number }> = {
  command: 'bench',
  describe: 'measure cold build, variant, bisect step, boot, warm run and test-kernel against their floors (default tree; hours, not minutes)',
  builder: (y) =>
    y
      .option('repeat', countOption('repeat', 'samples of each figure', { default: 3 }))
      .option('rows', { type: 'string', default: BENCH_ROWS.join(','), describe: `figures to measure, comma-separated (the first cold build is always made): ${BENCH_ROWS.join(', ')}` })
      .option('jobs', { alias: 'j', ...countOption('jobs', 'make -j for kseries and the floors (default: number of cores)') })
      .option('scratch', { type: 'string', default: defaultCacheRoot(), defaultDescription: '$XDG_CACHE_HOME/kseries', describe: 'where the scratch dir (private caches, source copy) goes; removed afterwards' })
      .option('out', outOption('where bench.txt and bench.json go')),
  handler: async (a) => {
    const rows = a.rows.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = rows.filter((r) => !(BENCH_ROWS as readonly string[]).includes(r));
    if (bad.length > 0) throw usageError(`--rows: unknown ${bad.join(', ')} (have: ${BENCH_ROWS.join(', ')})`);
    const progress = new Progress(process.stderr, Boolean(process.stderr.isTTY));
    const outDir = await createRunDir(a.out);
    const workDir = join(a.scratch, `bench-work-${process.pid}`);
    onInterrupt(() => rm(workDir, { recursive: true, force: true }));
    progress.stage('bench', `${a.repeat} samples each; scratch in ${workDir}; table so far in ${join(outDir, 'bench.txt')}`);
    const lines = await runBench(
      {
        arch: X86_64, repeat: a.repeat, rows: rows as BenchRow[], outDir, workDir,
        variantFile: 'io_uring/io_uring.c', prefixFiles: PREFIX_FILES, testKernelProfile: 'compat-sqpoll-6.1', jobs: a.jobs ?? availableParallelism(),
      },
      progress,
    );
    progress.clearLive();
    process.stdout.write(lines.join('\n') + `\nbench: ${outDir}/bench.txt\n`);
  },
};
