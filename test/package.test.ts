// The package as a user installs it: copy the checkout, `npm pack` it (prepack
// compiles dist/), install the tarball into an empty prefix (--prefer-offline:
// tarballs come from the cache `npm ci` filled; npm may still ask the registry
// for version metadata) and run the installed bin from elsewhere. No tsx there: the compiled JS must stand alone,
// and images/ and patches/ must be found from the installed package root.
import t from 'tap';
import { execa } from 'execa';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const repo = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'kseries-pack-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

const stage = join(work, 'stage');
const prefix = join(work, 'prefix');
const installed = join(prefix, 'node_modules', 'kseries');
const bin = join(prefix, 'node_modules', '.bin', 'kseries');
const fixture = (n: string) => join(repo, 'test/fixtures/console', n);
const kseries = (...args: string[]) => execa(bin, args, { reject: false, cwd: work, env: { FORCE_COLOR: '0' } });

t.before(async () => {
  // What a clean clone holds (tracked plus new, unignored files), never the tree's own dist/.
  const files = (await execa('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repo })).stdout.split('\0');
  for (const f of files.filter((f) => f && existsSync(join(repo, f)))) {
    mkdirSync(dirname(join(stage, f)), { recursive: true });
    cpSync(join(repo, f), join(stage, f));
  }
  symlinkSync(join(repo, 'node_modules'), join(stage, 'node_modules'));
  const pack = await execa('npm', ['pack', '--json', '--pack-destination', work], { cwd: stage });
  const [{ filename }] = JSON.parse(pack.stdout) as [{ filename: string }];
  await execa('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--prefix', prefix, join(work, filename)], { cwd: work });
});

t.test('the tarball holds compiled JS and the guest sources, not the TypeScript', async (t) => {
  t.ok(existsSync(join(installed, 'dist', 'cli.js')), 'dist/cli.js');
  t.notOk(existsSync(join(installed, 'harness')), 'no harness/ sources');
  t.notOk(existsSync(join(prefix, 'node_modules', 'tsx')), 'tsx (a devDependency) is not installed');
  t.same(readdirSync(join(installed, 'images', 'probes')).sort(), readdirSync(join(repo, 'images', 'probes')).filter((f) => f.endsWith('.c')).sort());
});

t.test('installed kseries --help runs without tsx', async (t) => {
  const r = await kseries('--help');
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stdout, /^kseries <command>/);
  t.match(r.stdout, /Exit codes: 0 all passed/);
});

t.test('installed kseries parse keeps the documented exit codes', async (t) => {
  const fail = await kseries('parse', fixture('probe-fail.log'));
  t.equal(fail.exitCode, 1, fail.stderr);
  t.match(fail.stdout, /FAIL/);
  t.equal((await kseries('parse', fixture('all-pass.log'))).exitCode, 0);
  const bad = await kseries('parse', join(work, 'no-such.log'));
  t.equal(bad.exitCode, 2);
  t.match(bad.stderr, /^kseries: error: /m);
});

t.test('installed kseries finds its shipped profiles (patches/) from any directory', async (t) => {
  const r = await kseries('variants', 'compat-sqpoll-6.1');
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stdout, /^variants:$/m);
  t.match(r.stdout, /pavel-first/);
});

t.test('installed dist/ resolves images/ to the installed package', async (t) => {
  const guest = join(installed, 'dist', 'image', 'guest.js');
  const r = await execa('node', ['--input-type=module', '-e', `const g = await import(${JSON.stringify(guest)}); console.log(JSON.stringify([g.IMAGES_DIR, await g.listProbes()]))`], { cwd: work });
  const [dir, probes] = JSON.parse(r.stdout) as [string, string[]];
  t.equal(dir, join(installed, 'images'));
  t.same(probes, readdirSync(join(repo, 'images', 'probes')).filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2)).sort());
});
