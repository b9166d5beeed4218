// kseries bench: build and boot timings as medians and ratios (figures, not assertions).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { runBench } from '../bench/bench.ts';
import { X86_64 } from '../model/arch.ts';
import { Progress } from '../run/progress.ts';
import { createRunDir } from '../run/rundir.ts';
import { onInterrupt } from '../util/proc.ts';
import { BASE_FRAGMENTS_DIR, countOption } from './options.ts';
import { defaultCacheRoot } from '../cache/store.ts';

export const benchCommand: CommandModule<object, { repeat: number; out?: string; cache: string; touch: string }> = {
  command: 'bench',
  describe: 'measure cold/warm/incremental builds and boot-to-results under TCG and KVM (default tree)',
  builder: (y) =>
    y
      .option('repeat', countOption('repeat', 'runs of each measurement', { default: 3 }))
      .option('touch', { type: 'string', default: 'fs/read_write.c', describe: 'source file touched for the incremental rebuild' })
      .option('cache', { type: 'string', default: defaultCacheRoot(), defaultDescription: '$XDG_CACHE_HOME/kseries', describe: 'cache holding the unpacked default tree' })
      .option('out', { type: 'string', describe: 'where bench.txt and bench.json go' }),
  handler: async (a) => {
    const progress = new Progress(process.stderr, Boolean(process.stderr.isTTY));
    const outDir = await createRunDir(a.out);
    const workDir = join(a.cache, `bench-work-${process.pid}`);
    onInterrupt(() => rm(workDir, { recursive: true, force: true }));
    progress.stage('bench', `${a.repeat} runs each; scratch in ${workDir}; this takes several cold kernel builds`);
    const lines = await runBench(
      { arch: X86_64, fragments: [join(BASE_FRAGMENTS_DIR, X86_64.fragment)], repeat: a.repeat, outDir, workDir, cacheRoot: a.cache, touchFile: a.touch },
      progress,
    );
    progress.clearLive();
    process.stdout.write(lines.join('\n') + `\nbench: ${outDir}/bench.txt\n`);
  },
};
