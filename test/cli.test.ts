// The CLI as a user meets it: exit codes and one-line errors, no kernel needed.
import t from 'tap';
import { execa } from 'execa';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..');
const fixture = (n: string) => join(repo, 'test/fixtures/console', n);
const kseries = (...args: string[]) => execa('node', [join(repo, 'bin/kseries.js'), ...args], { reject: false, env: { FORCE_COLOR: '0' } });

t.test('parse: a WARNING splat mid-probe names that probe and exits 4', async (t) => {
  const r = await kseries('parse', fixture('warning-splat.log'));
  t.equal(r.exitCode, 4);
  t.match(r.stdout, /warning\s+io_uring_readv:compat: WARNING: CPU/);
  t.match(r.stdout, /Status: CRASHED \(exit 4\)/);
});

t.test('parse: exit codes follow the documented table', async (t) => {
  const cases: [string, number][] = [
    ['all-pass.log', 0], ['probe-fail.log', 1], ['panic-truncated.log', 4],
    ['skip-timeout.log', 124], ['no-ktap.log', 4], ['real-debian-6.1-tcg.log', 0],
  ];
  for (const [file, code] of cases) t.equal((await kseries('parse', fixture(file))).exitCode, code, file);
});

t.test('parse --json - writes results JSON on stdout, the table on stderr', async (t) => {
  const r = await kseries('parse', fixture('probe-fail.log'), '--json', '-');
  const j = JSON.parse(r.stdout);
  t.equal(j.schema, 1);
  t.equal(j.exitCode, 1);
  t.ok(j.probes.some((p: { status: string }) => p.status === 'FAIL'));
  t.match(r.stderr, /FAIL/);
});

t.test('bad usage: one error line, exit 2', async (t) => {
  for (const args of [['parse', '/nonexistent/console.log'], ['frobnicate'], ['run', '--kconfig', 'NOVALUE'], ['run', '--tree', 'a', '--tarball', 'b']]) {
    const r = await kseries(...args);
    t.equal(r.exitCode, 2, args.join(' '));
    t.equal(r.stderr.trim().split('\n').filter((l) => /error|Arguments .* mutually exclusive/.test(l)).length >= 1, true);
  }
});

t.test('every command has --help', async (t) => {
  for (const cmd of ['run', 'parse', 'bench']) {
    const r = await kseries(cmd, '--help');
    t.equal(r.exitCode, 0, cmd);
    t.match(r.stdout, new RegExp(`kseries ${cmd}`));
  }
});

t.test('a --tree that does not exist is said to not exist, exit 2', async (t) => {
  const r = await kseries('run', '--tree', '/nonexistent/linux', '--cache', '/nonexistent/cache', '--out', '/nonexistent/out');
  t.equal(r.exitCode, 2);
  t.equal(r.stderr.trim(), 'kseries: error: --tree /nonexistent/linux does not exist');
});

t.test('parse - reads the console log from stdin, with the same results and exit code as from the file', async (t) => {
  const fromFile = await kseries('parse', fixture('warning-splat.log'), '--json', '-');
  const fromStdin = await execa('node', [join(repo, 'bin/kseries.js'), 'parse', '-', '--json', '-'], { reject: false, env: { FORCE_COLOR: '0' }, inputFile: fixture('warning-splat.log') });
  t.equal(fromStdin.exitCode, fromFile.exitCode);
  t.equal(fromStdin.exitCode, 4);
  const a = JSON.parse(fromFile.stdout) as { run: { source: string }; probes: unknown };
  const b = JSON.parse(fromStdin.stdout) as { run: { source: string }; probes: unknown };
  t.same(b.probes, a.probes);
  t.equal(b.run.source, 'stdin');
  const none = await kseries('parse', '');
  t.equal(none.exitCode, 2);
  t.match(none.stderr, /no console log named/);
});

t.test('help follows one convention: --json and --out under "Output:", the real default run dir, the claims profile once', async (t) => {
  for (const cmd of ['run', 'apply', 'variants', 'bisect', 'claims', 'review', 'parse']) {
    const help = (await kseries(cmd, '--help')).stdout;
    const output = help.slice(help.indexOf('\nOutput:\n'));
    t.ok(help.includes('\nOutput:\n'), `${cmd} has an Output: group`);
    t.match(output.split('\n\n')[0]!, /--json/, `${cmd}: --json is under Output:`);
    if (/--out\b/.test(help)) t.match(output.split('\n\n')[0]!, /--out\b/, `${cmd}: --out is under Output:`);
  }
  t.match((await kseries('run', '--help')).stdout, /\[default: \.\/runs\/<yyyymmdd>-<hhmmss>-<pid>\]/);
  const claims = (await kseries('claims', '--help')).stdout;
  t.equal(claims.match(/profile directory/g)?.length, 1, 'claims --help names the profile once, as its positional');
  t.notMatch(claims, /--profile/);
});

t.test('kseries completion prints a shell completion script', async (t) => {
  const r = await kseries('completion');
  t.equal(r.exitCode, 0);
  t.match(r.stdout, /kseries-completions/);
  t.match(r.stdout, /complete -o bashdefault -o default -F _kseries_yargs_completions kseries/);
});
