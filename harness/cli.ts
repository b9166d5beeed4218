// kseries command line: one file per command under commands/.
import yargs from 'yargs';
import type { CommandModule } from 'yargs';
import { applyCommand } from './commands/apply.ts';
import { benchCommand } from './commands/bench.ts';
import { bisectCommand } from './commands/bisect.ts';
import { checkCommand } from './commands/check.ts';
import { claimsCommand } from './commands/claims.ts';
import { parseCommand } from './commands/parse.ts';
import { reviewCommand } from './commands/review.ts';
import { runCommandModule } from './commands/run.ts';
import { selftestsCommand } from './commands/selftests.ts';
import { mergeCommand, planCommand } from './commands/farm.ts';
import { variantsCommand } from './commands/variants.ts';
import { ExitCode } from './model/results.ts';
import { KseriesError } from './util/errors.ts';
import { wasInterrupted } from './util/proc.ts';

const EPILOG = `Exit codes: 0 all passed; 1 a probe failed; 2 bad input or usage; 3 infrastructure
(build failed, qemu missing, no KVM); 4 the kernel crashed or reported a problem; 124 hang or timeout;
130 interrupted (Ctrl-C, SIGINT, SIGTERM).`;

// Each command module has its own argument type; the root only registers them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = CommandModule<any, any>;

export const COMMANDS: readonly AnyCommand[] = [runCommandModule, selftestsCommand, applyCommand, variantsCommand, bisectCommand, claimsCommand, reviewCommand, checkCommand, parseCommand, planCommand, mergeCommand, benchCommand];

/** Run the command line; sets process.exitCode. Tests may pass commands with injected stages. */
export async function kseries(argv: string[], commands: readonly AnyCommand[] = COMMANDS): Promise<void> {
  // A reader that goes away (`kseries parse log | head -1`) is not an error: stop writing to that
  // stream, let the command finish (a run still writes results.json) and exit with its own code.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      stream.write = (() => true) as typeof stream.write;
    });
  }
  try {
    let y = yargs(argv).scriptName('kseries');
    for (const c of commands) y = y.command(c);
    await y
      .completion('completion', 'print a bash/zsh completion script (kseries completion >> ~/.bashrc)')
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
    if (wasInterrupted()) {
      // A stage killed by Ctrl-C: no error of its own; the interrupt handler exits 130.
      process.exitCode = ExitCode.INTERRUPTED;
    } else if (e instanceof KseriesError) {
      process.stderr.write(`kseries: error: ${e.message}\n`);
      if (e.detail) process.stderr.write(e.detail.replace(/^/gm, '  ') + '\n');
      process.exitCode = e.exitCode;
    } else {
      process.stderr.write(`kseries: internal error: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = ExitCode.INFRA;
    }
  }
}
