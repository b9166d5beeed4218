// kseries command line: one file per command under commands/.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { applyCommand } from './commands/apply.ts';
import { benchCommand } from './commands/bench.ts';
import { bisectCommand } from './commands/bisect.ts';
import { claimsCommand } from './commands/claims.ts';
import { parseCommand } from './commands/parse.ts';
import { runCommand } from './commands/run.ts';
import { variantsCommand } from './commands/variants.ts';
import { ExitCode } from './model/results.ts';
import { KseriesError } from './util/errors.ts';

const EPILOG = `Exit codes: 0 all passed; 1 a probe failed; 2 bad input or usage; 3 infrastructure
(build failed, qemu missing, no KVM); 4 the kernel crashed or reported a problem; 124 hang or timeout.`;

// A reader that goes away (`kseries parse log | head -1`) is not an error: stop writing to that
// stream, let the command finish (a run still writes results.json) and exit with its own code.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    stream.write = (() => true) as typeof stream.write;
  });
}

try {
  await yargs(hideBin(process.argv))
    .scriptName('kseries')
    .command(runCommand)
    .command(applyCommand)
    .command(variantsCommand)
    .command(bisectCommand)
    .command(claimsCommand)
    .command(parseCommand)
    .command(benchCommand)
    .demandCommand(1, 'name a command (see --help)')
    .strict()
    .epilog(EPILOG)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      // yargs' own checks and what an option's coerce throws arrive as YError: bad usage.
      if (err && err.name !== 'YError') throw err;
      throw new KseriesError(msg ?? err?.message, ExitCode.USAGE);
    })
    .help()
    .parseAsync();
} catch (e) {
  if (e instanceof KseriesError) {
    process.stderr.write(`kseries: error: ${e.message}\n`);
    if (e.detail) process.stderr.write(e.detail.replace(/^/gm, '  ') + '\n');
    process.exitCode = e.exitCode;
  } else {
    process.stderr.write(`kseries: internal error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = ExitCode.INFRA;
  }
}
