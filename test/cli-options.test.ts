// Numeric options of every command are checked up front: one error line, exit 2, nothing created.
import t from 'tap';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wholeNumber } from '../harness/commands/options.ts';

const repo = join(import.meta.dirname, '..');
const kseries = (...args: string[]) => execa('node', [join(repo, 'bin/kseries.js'), ...args], { reject: false, env: { FORCE_COLOR: '0' } });

t.test('wholeNumber takes digits only, within range; the last of repeated values wins', async (t) => {
  t.equal(wholeNumber('jobs', '4'), 4);
  t.equal(wholeNumber('jobs', 4), 4);
  t.equal(wholeNumber('jobs', [2, 8]), 8);
  t.equal(wholeNumber('x', '0', 0), 0);
  for (const bad of ['abc', '', '-1', '0', '1.5', NaN, -3, 'Infinity', '2x']) t.throws(() => wholeNumber('jobs', bad), /--jobs needs a whole number of at least 1/, String(bad));
  t.throws(() => wholeNumber('boot-timeout', '11', 1, 10), /--boot-timeout needs a whole number from 1 to 10, got '11'/);
});

t.test('every numeric option of every command refuses NaN, 0, negatives and fractions with exit 2', async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), 'kseries-opts-'));
  const out = join(tmp, 'run');
  // --tree names a missing directory, so nothing could be built even if a check were missing.
  const safe = ['--tree', join(tmp, 'no-tree'), '--cache', join(tmp, 'cache'), '--out', out];
  const cases: [string[], RegExp][] = [
    [['run', '--boot-timeout', 'abc'], /--boot-timeout needs a whole number from 1 to \d+, got 'abc'/],
    [['run', '--jobs', '-1'], /--jobs needs a whole number of at least 1, got '-1'/],
    [['run', '-j', '0'], /--jobs .* got '0'/],
    [['run', '--probe-timeout', '1.5'], /--probe-timeout .* got '1.5'/],
    [['run', '--probe-timeout', '100000'], /--probe-timeout needs a whole number from 1 to 86400/],
    [['run', '--exec-timeout', 'NaN'], /--exec-timeout .* got 'NaN'/],
    [['run', '--series', 'x@y', '--revision', '0'], /--revision .* got '0'/],
    [['run', '--series', 'x@y', '--drop', 'two'], /--drop .* got 'two'/],
    [['bisect', '--run', 'true', '--repeat', '0'], /--repeat .* got '0'/],
    [['bisect', '--run', 'true', '--boot-timeout', '-5'], /--boot-timeout .* got '-5'/],
    [['claims', 'compat-sqpoll-6.1', '--jobs', 'many'], /--jobs .* got 'many'/],
  ];
  for (const [args, msg] of cases) {
    const r = await kseries(...args, ...safe);
    t.equal(r.exitCode, 2, args.join(' '));
    t.match(r.stderr, msg, args.join(' '));
    t.equal(r.stderr.trim().split('\n').length, 1, `one line: ${args.join(' ')}`);
  }
  const bench = await kseries('bench', '--repeat', 'x', '--cache', join(tmp, 'cache'), '--out', out);
  t.equal(bench.exitCode, 2);
  t.match(bench.stderr, /^kseries: error: --repeat needs a whole number of at least 1, got 'x'$/m);
  t.notOk(existsSync(out), 'no run directory was created');
});
