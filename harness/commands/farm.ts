// kseries plan --emit lava DIR --run-dir RUN: the boots of a run (one per
// kernel it built: boot.json beside bzImage and initramfs.cpio) as LAVA jobs,
// with the qemu device and a dispatcher file, for lava-run or a LAVA server.
// kseries merge LOG|DIR...: console logs or LAVA job logs back into the same
// results, table, JSON and exit code a local run gives from those consoles.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { exitCodeFor, parseConsole } from '../console/parse-console.ts';
import { consoleFromLavaLog, isLavaLog, lavaDevice, lavaDispatcher, lavaJob } from '../farm/lava.ts';
import type { ConsoleResult } from '../model/results.ts';
import { mergeResults } from '../report/matrix.ts';
import { formatResultTable } from '../report/summary.ts';
import type { BootSpec } from '../run/rundir.ts';
import { usageError } from '../util/errors.ts';
import { countOption, exitCodeCommand, jsonOption } from './options.ts';
import { jsonSink, writeResults } from './output.ts';
import { checkOutputFiles, outputFiles } from './validate.ts';

/** Every kernel's run directory under `root` (the ones holding boot.json). */
async function bootDirs(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    if (existsSync(join(d, 'boot.json'))) out.push(d);
    for (const e of await readdir(d, { withFileTypes: true })) if (e.isDirectory() && e.name !== 'patches') await walk(join(d, e.name));
  };
  await walk(root);
  return out.sort();
}

/** LAVA's device options are one string per option with its value: ["-m", "512"] → ["-m 512"]. */
export function optionWords(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-') || out.length === 0) out.push(a);
    else out[out.length - 1] += ` ${a}`;
  }
  return out;
}

interface PlanArgs {
  emit: string;
  out: string;
  runDir: string;
  bootMinutes: number;
}

async function planHandler(a: PlanArgs): Promise<number> {
  if (a.emit !== 'lava') throw usageError(`--emit ${a.emit}: kseries can emit lava`);
  const run = resolve(a.runDir);
  if (!existsSync(run)) throw usageError(`--run-dir ${a.runDir} does not exist`);
  const dirs = await bootDirs(run);
  if (dirs.length === 0) throw usageError(`--run-dir ${a.runDir}: no boot.json in it or below (a run directory of kseries run, selftests or claims)`);
  const outDir = resolve(a.out);
  for (const d of dirs) {
    const spec = JSON.parse(await readFile(join(d, 'boot.json'), 'utf8')) as BootSpec;
    for (const f of [spec.kernel, spec.initrd]) if (!existsSync(join(d, f))) throw usageError(`${join(d, f)} is missing: the run did not get as far as the boot`);
    const name = relative(run, d) || basename(run);
    const jobDir = join(outDir, name.replace(/\//g, '--'));
    await mkdir(jobDir, { recursive: true });
    // The job points at its own copies, so DIR can move to the farm as one piece.
    await copyFile(join(d, spec.kernel), join(jobDir, 'bzImage'));
    await copyFile(join(d, spec.initrd), join(jobDir, 'initramfs.cpio'));
    await writeFile(join(jobDir, 'job.yaml'), lavaJob({
      name: `kseries ${name}`, kernelUrl: `file://${join(jobDir, 'bzImage')}`, initrdUrl: `file://${join(jobDir, 'initramfs.cpio')}`,
      qemuBinary: spec.qemuBinary, qemuOptions: spec.qemuOptions, cmdline: spec.cmdline, jobMinutes: a.bootMinutes + 5, bootMinutes: a.bootMinutes,
    }));
    await writeFile(join(jobDir, 'device.yaml'), lavaDevice(spec.qemuBinary, optionWords(spec.qemuOptions)));
    await writeFile(join(jobDir, 'dispatcher.yaml'), lavaDispatcher());
    process.stdout.write(`${jobDir}: lava-run --job-id 1 --device ${join(jobDir, 'device.yaml')} --dispatcher ${join(jobDir, 'dispatcher.yaml')} --output-dir ${join(jobDir, 'out')} ${join(jobDir, 'job.yaml')} 2> ${join(jobDir, 'lava-job.log')}\n`);
  }
  return 0;
}

/** The console of one input: a console log, a LAVA job log, or a directory holding either. */
async function consoleOf(p: string): Promise<{ name: string; text: string }> {
  let file = p;
  if ((await stat(p).catch(() => null))?.isDirectory()) {
    const found = ['lava-job.log', 'console.log'].map((f) => join(p, f)).find((f) => existsSync(f));
    if (!found) throw usageError(`${p}: no lava-job.log or console.log in it`);
    file = found;
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw usageError(`cannot read ${file}`);
  }
  return { name: file, text: isLavaLog(text) ? consoleFromLavaLog(text) : text };
}

async function mergeHandler(a: { inputs: string[]; json?: string }): Promise<number> {
  await checkOutputFiles(outputFiles(a));
  const parts: ConsoleResult[] = [];
  for (const p of a.inputs) parts.push(parseConsole((await consoleOf(p)).text));
  const merged = mergeResults(parts);
  const out = jsonSink(a.json).screen;
  out.write(formatResultTable(merged, { color: Boolean(out.isTTY) }).join('\n') + '\n');
  await writeResults(undefined, a.json, merged, { source: a.inputs.join(' ') });
  return exitCodeFor(merged);
}

export const planCommand = exitCodeCommand(
  'plan',
  "the boots of a built run as farm jobs: --emit lava writes a LAVA job, qemu device and dispatcher file per kernel, with its kernel and initramfs",
  (y: Argv) =>
    y
      .option('emit', { type: 'string', demandOption: true, choices: ['lava'], describe: 'job format' })
      .option('run-dir', { type: 'string', demandOption: true, describe: 'a run directory of kseries run, selftests or claims (every boot.json in it)' })
      .option('out', { type: 'string', demandOption: true, describe: 'directory for the jobs, one subdirectory per kernel' })
      .option('boot-minutes', countOption('boot-minutes', "LAVA's boot and test timeout in minutes (its allowance between two result lines)", { default: 15, max: 24 * 60 })),
  (a: PlanArgs) => planHandler(a),
);

export const mergeCommand = exitCodeCommand(
  'merge <inputs..>',
  'console logs or LAVA job logs (files, or directories holding lava-job.log or console.log) back into results, as a local run reports them',
  (y: Argv) => y.positional('inputs', { type: 'string', array: true, describe: 'logs or directories' }).option('json', jsonOption("write results JSON to FILE ('-' for stdout)")),
  (a: { inputs: string[]; json?: string }) => mergeHandler(a),
);
