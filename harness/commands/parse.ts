// kseries parse: re-read a saved console log offline with the same results and exit codes.
import { readFile, writeFile } from 'node:fs/promises';
import type { CommandModule } from 'yargs';
import { exitCodeFor, parseConsole } from '../console/parse-console.ts';
import { formatResultTable } from '../report/summary.ts';
import { usageError } from '../util/errors.ts';
import { readStdin } from '../util/proc.ts';
import { jsonOption, junitOption, ktapOption } from './options.ts';
import { checkOutputFiles, outputFiles } from './validate.ts';
import { junitXml, resultsJunit } from '../report/junit.ts';
import { resultsKtap } from '../report/ktap.ts';
import { jsonSink, writeResults } from './output.ts';

export const parseCommand: CommandModule<object, { log: string; json?: string; ktap?: string; junit?: string }> = {
  command: 'parse <log>',
  describe: 'parse a saved console log (KTAP v1 or TAP 13) and report results and findings',
  builder: (y) =>
    y
      .positional('log', { type: 'string', demandOption: true, describe: "console log file ('-' for stdin)" })
      .option('json', jsonOption("write results JSON to FILE ('-' for stdout)"))
      .option('ktap', ktapOption())
      .option('junit', junitOption()),
  handler: async (a) => {
    await checkOutputFiles(outputFiles(a));
    // yargs hands a lone '-' to a string positional as ''.
    const fromStdin = a.log === '-' || (a.log === '' && process.argv.slice(2).includes('-'));
    if (a.log === '' && !fromStdin) throw usageError('no console log named');
    let text: string;
    try {
      text = fromStdin ? (await readStdin()).toString('utf8') : await readFile(a.log, 'utf8');
    } catch {
      throw usageError(`cannot read console log ${fromStdin ? 'from stdin' : a.log}`);
    }
    const result = parseConsole(text);
    const exitCode = exitCodeFor(result);
    const out = jsonSink(a.json).screen;
    out.write(formatResultTable(result, { color: Boolean(out.isTTY) }).join('\n') + '\n');
    await writeResults(undefined, a.json, result, { source: fromStdin ? 'stdin' : a.log });
    if (a.ktap) await writeFile(a.ktap, resultsKtap(result));
    if (a.junit) await writeFile(a.junit, junitXml('kseries parse', resultsJunit(result.probes)));
    process.exitCode = exitCode;
  },
};
