// Ctrl-C (SIGINT) and SIGTERM mid-build: exit 130, results.json says INTERRUPTED and in which
// stage, and the build's subprocess is gone. The build is a stand-in that only sleeps.
import t from 'tap';
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schemaErrors } from './fixtures/json/validate.ts';

const script = join(import.meta.dirname, 'fixtures/cli/interrupt-run.ts');
const SLEEP_SECONDS = String(600 + (process.pid % 300));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  t.test(`${signal} during the build leaves results.json with status INTERRUPTED`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'kseries-int-'));
    const tree = join(dir, 'tree');
    await mkdir(tree);
    await writeFile(join(tree, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 1\n');
    await writeFile(join(tree, 'Kconfig'), 'mainmenu "toy"\n');
    const out = join(dir, 'out');
    const p = execa('node', ['--import', 'tsx', script, 'run', '--tree', tree, '--cache', join(dir, 'cache'), '--out', out], { reject: false, all: true, env: { FAKE_BUILD_SLEEP: SLEEP_SECONDS } });
    let seen = '';
    await new Promise<void>((resolve) => {
      p.all!.on('data', (d: Buffer) => {
        seen += d.toString();
        if (/fake build: sleeping/.test(seen)) resolve();
      });
      void p.then(() => resolve());
    });
    p.kill(signal);
    const r = await p;
    t.equal(r.exitCode, 130, seen);
    t.notMatch(r.all, /kseries: (internal )?error/, 'the killed build is not reported as an error');
    const json = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    t.same(schemaErrors(json), [], 'the interrupted results.json validates');
    t.equal(json.status, 'INTERRUPTED');
    t.equal(json.exitCode, 130);
    t.same(json.interrupted, { signal, stage: 'build' });
    t.same(json.probes, [], 'no probe results are claimed');
    const left = await execa('pgrep', ['-f', `^sleep ${SLEEP_SECONDS}$`], { reject: false });
    t.equal(left.stdout.trim(), '', 'the build subprocess was killed');
  });
}

t.test('SIGINT during a bisect step leaves bisect.json INTERRUPTED with the steps so far, no verdict', async (t) => {
  const repo = join(import.meta.dirname, '..');
  const dir = await mkdtemp(join(tmpdir(), 'kseries-int-bisect-'));
  const { TOY_TREE } = await import('./fixtures/series/make-fixtures.ts');
  const tree = join(dir, 'tree');
  await mkdir(tree);
  for (const [k, v] of Object.entries({ ...TOY_TREE, Makefile: 'VERSION = 6\n', Kconfig: 'x\n' })) await writeFile(join(tree, k), v);
  const out = join(dir, 'out');
  // The base step answers at once; the full-series step blocks until interrupted.
  const judge = `if grep -q getenv greet.c; then echo judging-blocked; sleep ${SLEEP_SECONDS}; fi; exit 0`;
  const p = execa('node', [join(repo, 'bin/kseries.js'), 'bisect', '--tree', tree, '--cache', join(dir, 'cache'), '--out', out, '--no-lore',
    '--mbox', join(repo, 'test/fixtures/series/toy-series.mbox'), '--series', '20240101090000.1000-1-author@example.org', '-v', '1', '--run', judge], { reject: false, all: true });
  let seen = '';
  await new Promise<void>((resolve) => {
    p.all!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (/prefix 0: /.test(seen)) setTimeout(resolve, 1500);
    });
    void p.then(() => resolve());
  });
  p.kill('SIGINT');
  const r = await p;
  t.equal(r.exitCode, 130, seen);
  const json = JSON.parse(await readFile(join(out, 'bisect.json'), 'utf8'));
  t.same(schemaErrors(json), [], 'the interrupted bisect.json validates');
  t.equal(json.status, 'INTERRUPTED');
  t.equal(json.interrupted.signal, 'SIGINT');
  t.same(json.steps.map((s: { k: number }) => s.k), [0], 'the base step was decided, nothing after it');
  t.notOk('firstBad' in json, 'no culprit is named');
});
