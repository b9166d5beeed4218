// kseries selftests TARGET...: build kselftest's targets from the tree under
// test (with the series or variant applied, as `run` takes them), merge each
// target's config fragment, and run every test in the guest, one result per
// test with its own KTAP nested. The options are run's.
import type { Argv } from 'yargs';
import { exitCodeCommand, repeatable } from './options.ts';
import { runBuilder, runHandler, type RunArgs } from './run.ts';

function builder(y: Argv) {
  return runBuilder(y)
    .positional('targets', { type: 'string', array: true, describe: 'kselftest targets (directories of tools/testing/selftests), e.g. x86 timers' })
    .option('test', repeatable('run only COLLECTION:TEST of the targets (* and ? glob), as run_kselftest.sh -t', 'Guest:'));
}

export const selftestsCommand = exitCodeCommand(
  'selftests <targets..>',
  "build kselftest TARGETs from the tree under test, boot it with them and report each test (a target's config fragment is merged; timeouts from its settings, timeout=0 capped by --exec-timeout)",
  builder,
  (a: RunArgs & { test?: string[] }) => runHandler({ ...a, ...(a.test && a.test.length > 0 ? { only: a.test } : {}) }),
);
