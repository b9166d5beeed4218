import t from 'tap';
import { Progress } from '../harness/run/progress.ts';
import { formatDuration } from '../harness/util/duration.ts';

const at = (s: number) => () => new Date(Date.UTC(2026, 0, 1, 12, 0, s));

t.test('durations read naturally', async (t) => {
  t.equal(formatDuration(1234), '1.2s');
  t.equal(formatDuration(192_000), '3m12s');
});

t.test('on a TTY the live line rewrites itself and stage lines clear it', async (t) => {
  let out = '';
  const p = new Progress({ write: (s: string) => (out += s) }, true, 20000, at(5));
  p.live('build', '10 objects');
  p.live('build', '20 objects');
  p.stage('build', 'done');
  t.equal(out, '\r\x1b[K[12:00:05] build: 10 objects\r\x1b[K[12:00:05] build: 20 objects\r\x1b[K[12:00:05] build: done\n');
});

t.test('without a TTY live updates are plain lines, throttled', async (t) => {
  let out = '';
  let now = 0;
  const p = new Progress({ write: (s: string) => (out += s) }, false, 20000, () => new Date(Date.UTC(2026, 0, 1, 12, 0, 0) + now));
  p.live('build', 'a');
  now = 5000;
  p.live('build', 'b');
  now = 25000;
  p.live('build', 'c');
  t.equal(out, '[12:00:00] build: a\n[12:00:25] build: c\n');
  t.notMatch(out, /\x1b/);
});

t.test('BootCounter counts the top-level results of a console as it arrives, in any chunks', async (t) => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { BootCounter } = await import('../harness/run/progress.ts');
  const text = readFileSync(join(import.meta.dirname, 'fixtures/console/all-pass.log'), 'latin1');
  for (const size of [1, 7, 100, text.length]) {
    const c = new BootCounter();
    for (let i = 0; i < text.length; i += size) c.feed(text.slice(i, i + size));
    t.same([c.planned, c.done], [6, 6], `chunks of ${size}`);
  }
  const half = new BootCounter();
  half.feed(text.slice(0, text.indexOf('ok 1 readv_writev:compat') + 30));
  t.equal(half.describe(4100, (ms) => `${(ms / 1000).toFixed(1)}s`), '1/6 probes reported, 4.1s', 'the escape codes glued to KTAP version do not hide the plan');
});
