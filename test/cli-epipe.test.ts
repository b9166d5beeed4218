// A reader that goes away early (`| head -1`, `| true`) ends kseries' output quietly:
// no stack trace, and the exit code is still the command's own.
import t from 'tap';
import { execa } from 'execa';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..');
const bin = join(repo, 'bin/kseries.js');
const fixture = (n: string) => join(repo, 'test/fixtures/console', n);

/** Run kseries with one of its output pipes already closed by the reader. */
async function closed(which: 'stdout' | 'stderr', ...args: string[]) {
  const p = execa('node', [bin, ...args], { reject: false, env: { FORCE_COLOR: '0' } });
  p[which]!.destroy();
  return p;
}

t.test('parse with stdout closed: the verdict exit code, nothing on stderr', async (t) => {
  for (const [log, code] of [['probe-fail.log', 1], ['all-pass.log', 0], ['warning-splat.log', 4]] as const) {
    const r = await closed('stdout', 'parse', fixture(log));
    t.equal(r.exitCode, code, log);
    t.equal(r.stderr, '', `${log}: no stack trace`);
  }
  const json = await closed('stdout', 'parse', fixture('probe-fail.log'), '--json', '-');
  t.equal(json.exitCode, 1);
  t.notMatch(json.stderr, /EPIPE|at .*\.ts:\d+/, 'the table still goes to stderr, no trace');
});

t.test('a shell pipeline into a reader that has exited: pipefail sees the command\'s own code', async (t) => {
  const r = await execa('bash', ['-c', `set -o pipefail; node ${bin} parse ${fixture('probe-fail.log')} | true`], { reject: false });
  t.equal(r.exitCode, 1);
  t.equal(r.stderr, '');
  const v = await execa('bash', ['-c', `set -o pipefail; node ${bin} variants compat-sqpoll-6.1 | true`], { reject: false });
  t.equal(v.exitCode, 0);
  t.equal(v.stderr, '');
});

t.test('errors with stderr closed keep their exit code', async (t) => {
  const r = await closed('stderr', 'parse', '/nonexistent/console.log');
  t.equal(r.exitCode, 2);
  const u = await closed('stderr', 'frobnicate');
  t.equal(u.exitCode, 2);
});
