// kseries claims on a synthetic profile: --check validates and prints the plan
// without building anything; bad claim files are reported one by one. Nothing
// here builds or boots a kernel: every run stops before the tree is touched.
import t from 'tap';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimsExitCode, uncheckedCases } from '../harness/commands/claims.ts';
import { parseClaim } from '../harness/claims/spec.ts';
import { schemaErrors } from './fixtures/json/validate.ts';

const repo = join(import.meta.dirname, '..');
const kseries = (...args: string[]) => execa('node', [join(repo, 'bin/kseries.js'), ...args], { reject: false, env: { FORCE_COLOR: '0' } });

const ref = (variant: string, abi: string, probe: string, kase?: string) => ({ variant, abi, probe, ...(kase !== undefined ? { case: kase } : {}) });

const claim = (kase: string, extra: Record<string, unknown> = {}) => ({
  author: 'Reviewer',
  messageId: 'r.1@example.org',
  date: '2020-09-19',
  claim: 'The fix refuses SQPOLL to compat tasks and leaves native32 alone.',
  variants: ['base', 'fix'],
  abis: ['compat', 'native32'],
  probes: ['io_uring_setup'],
  observable: {
    all: [
      { case: ref('fix', 'compat', 'io_uring_setup', kase), status: 'FAIL' },
      { same: [ref('base', 'native32', 'io_uring_setup', 'setup_sqpoll'), ref('fix', 'native32', 'io_uring_setup', 'setup_sqpoll')] },
    ],
  },
  ...extra,
});

/** A profile dir with two variants and the given claim files. */
async function profile(claims: Record<string, unknown>) {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-claims-'));
  const p = join(dir, 'toy');
  await mkdir(join(p, 'claims'), { recursive: true });
  await writeFile(
    join(p, 'profile.json'),
    JSON.stringify({ description: 'toy', base: { kernel: '6.1' }, probes: ['io_uring_setup'], unprivileged: ['io_uring_setup'], variants: { base: { patches: [] }, fix: { patches: [] } } }),
  );
  for (const [f, c] of Object.entries(claims)) await writeFile(join(p, 'claims', f), typeof c === 'string' ? c : JSON.stringify(c));
  return { dir, profile: p, out: join(dir, 'out'), cache: join(dir, 'cache') };
}

t.test('--check: valid claims print the plan and exit 0, building nothing', async (t) => {
  const own = {
    author: 'kseries',
    date: '2026-12-02',
    claim: 'Nobody gets SQPOLL on the base.',
    variants: ['base'],
    abis: ['compat'],
    probes: ['io_uring_setup_unpriv'],
    observable: { case: ref('base', 'compat', 'io_uring_setup_unpriv', 'setup_sqpoll'), status: 'FAIL' },
  };
  const s = await profile({ 'a.json': claim('setup_sqpoll'), 'own.json': own });
  t.teardown(() => rm(s.dir, { recursive: true, force: true }));
  const r = await kseries('claims', s.profile, '--check', '--out', s.out, '--cache', s.cache);
  t.equal(r.exitCode, 0, r.stderr);
  t.same(r.stdout.split('\n'), [
    'claims on toy: 2 valid, 0 invalid',
    'plan: 2 claims need 2 variants (base, fix), 4 kernel builds and boots',
    '  base: kernels i386 (native32), x86_64 (compat); probes io_uring_setup; also as uid 65534: io_uring_setup',
    '  fix: kernels x86_64 (compat), i386 (native32); probes io_uring_setup',
    'check: every claim file is valid; nothing built · exit 0',
  ]);
  t.equal(r.stderr, '');
  t.notOk(existsSync(s.out), 'no run directory');
  t.notOk(existsSync(s.cache), 'no cache');
});

t.test('--check: an unknown case name is one line naming the file, the case and the cases; exit 2', async (t) => {
  const s = await profile({ 'a.json': claim('setup_sqpoll'), 'b-typo.json': claim('setup_sqpol'), 'c.json': '{' });
  t.teardown(() => rm(s.dir, { recursive: true, force: true }));
  const r = await kseries('claims', s.profile, '--check', '--out', s.out);
  t.equal(r.exitCode, 2);
  const lines = r.stdout.split('\n');
  t.equal(lines[0], 'claims on toy: 1 valid, 2 invalid');
  t.equal(
    lines[1],
    `  b-typo: invalid: claim ${join(s.profile, 'claims', 'b-typo.json')}: observable.all[0].case.case: probe io_uring_setup has no case "setup_sqpol" (cases: setup_default, setup_sqpoll, setup_zero_entries, sqpoll_unprivileged)`,
  );
  t.match(lines[2], /^ {2}c: invalid: claim .*c\.json: not valid JSON/);
  t.equal(lines[3], 'plan: 1 claim needs 2 variants (base, fix), 3 kernel builds and boots', 'the plan of the valid ones');
  t.equal(lines.at(-1), 'check: 2 invalid claim files; nothing built · exit 2');
  t.notOk(existsSync(s.out));

  const only = await kseries('claims', s.profile, '--check', '--only', 'a');
  t.equal(only.exitCode, 0, '--only leaves the bad files out');
  t.match(only.stdout, /^claims on toy: 1 valid, 0 invalid\n/);
  const onlyBad = await kseries('claims', s.profile, '--check', '--only', 'b-typo');
  t.equal(onlyBad.exitCode, 2, '--only may name a bad file');
});

t.test('without --check, a profile whose every claim file is bad is a usage error before anything is built', async (t) => {
  const s = await profile({ 'b-typo.json': claim('setup_sqpol'), 'c.json': '{' });
  t.teardown(() => rm(s.dir, { recursive: true, force: true }));
  const r = await kseries('claims', s.profile, '--out', s.out, '--cache', s.cache, '--tree', join(s.dir, 'no-tree'));
  t.equal(r.exitCode, 2);
  const lines = r.stderr.trim().split('\n');
  t.match(lines[0], /^kseries: error: claim .*b-typo\.json: observable\.all\[0\]\.case\.case: probe io_uring_setup has no case "setup_sqpol"/);
  t.match(lines[1], /^ {2}claim .*c\.json: not valid JSON/, 'the other bad files below it');
  t.equal(lines.length, 2);
  t.notOk(existsSync(s.out), 'no run directory');
});

t.test('exit codes: a bad file beside decided claims counts like an inconclusive claim', async (t) => {
  const n = { confirmed: 3, refuted: 1, inconclusive: 0, 'infra-error': 0, unexpected: 0 };
  t.equal(claimsExitCode(n, 0), 0);
  t.equal(claimsExitCode(n, 1), 5, 'a bad file: 5');
  t.equal(claimsExitCode({ ...n, inconclusive: 1 }, 1), 5);
  t.equal(claimsExitCode({ ...n, 'infra-error': 1 }, 1), 3, 'an infra-error wins');
  t.equal(claimsExitCode({ ...n, unexpected: 1 }, 1), 1, 'an unexpected verdict wins');
});

t.test('--check names the probes whose case names it could not check', async (t) => {
  const c = parseClaim(claim('whatever'), { file: 'c.json', variants: ['base', 'fix'], probes: ['io_uring_setup'] });
  t.same(uncheckedCases([c], { io_uring_setup: { names: [], complete: false, why: 'names built at run time', outsideTable: [] } }), ['case names of io_uring_setup not checked: names built at run time']);
  t.same(uncheckedCases([c], {}), ['case names of io_uring_setup not checked: no source under images/probes/']);
  t.same(uncheckedCases([c], { io_uring_setup: { names: ['whatever', 'setup_sqpoll'], complete: true, outsideTable: [] } }), [], 'checked: nothing to say');
});

t.test('claims about the series alone are decided by applying it: nothing built or booted', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kseries-series-facts-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tree = join(dir, 'linux');
  const prof = join(dir, 'prof');
  await mkdir(join(tree, 'fs'), { recursive: true });
  await mkdir(join(prof, 'claims'), { recursive: true });
  await mkdir(join(prof, 'own'), { recursive: true });
  await writeFile(join(tree, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\nEXTRAVERSION =\n');
  await writeFile(join(tree, 'Kconfig'), 'config X\n');
  await writeFile(join(tree, 'fs/io_uring.c'), 'int a;\nint b;\n');
  const git = (...args: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: tree });
  await git('init', '-q');
  await git('add', '-A');
  await git('commit', '-qm', 'base');
  await writeFile(join(tree, 'fs/io_uring.c'), 'int a;\nint b2;\n');
  await git('commit', '-qam', 'io_uring: change b');
  await git('format-patch', '-q', '-1', '-o', join(prof, 'own'));
  await git('reset', '-q', '--hard', 'HEAD~1');
  await writeFile(join(prof, 'profile.json'), JSON.stringify({ description: 'toy', base: { kernel: '6.1' }, probes: ['io_uring_setup'], variants: { base: { patches: [] }, fix: { patches: [{ file: 'own/0001-io_uring-change-b.patch' }] } } }));
  const fact = (observable: unknown, expect: string) => ({ author: 'Reviewer', messageId: 'r.1@example.org', date: '2020-09-19', claim: 'A fact of the series.', variants: ['fix'], observable, expect });
  await writeFile(join(prof, 'claims', 'a-touches.json'), JSON.stringify(fact({ touches: { variant: 'fix', patch: 1 }, path: '^fs/io_uring\\.c$' }, 'confirmed')));
  await writeFile(join(prof, 'claims', 'b-fuzzy.json'), JSON.stringify(fact({ applies: { variant: 'fix', patch: 1 }, method: 'fuzzy' }, 'refuted')));
  await writeFile(join(prof, 'claims', 'c-source.json'), JSON.stringify(fact({ all: [{ source: { variant: 'fix' }, path: 'fs', pattern: '^int b2;$' }, { source: { variant: 'fix' }, path: 'fs/io_uring.c', pattern: '^int b;$', present: false }] }, 'confirmed')));
  const check = await kseries('claims', prof, '--check');
  t.equal(check.exitCode, 0, check.stderr);
  t.match(check.stdout, /fix: applied only \(series facts\); nothing built/);
  const out = join(dir, 'out');
  const cache = join(dir, 'cache');
  const r = await kseries('claims', prof, '--tree', tree, '--cache', cache, '--out', out);
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stdout, /a-touches\s+confirmed/);
  t.match(r.stdout, /b-fuzzy\s+refuted/);
  t.match(r.stdout, /c-source\s+confirmed/);
  const json = JSON.parse(await readFile(join(out, 'claims.json'), 'utf8')) as { claims: { id: string; verdict: string }[] };
  t.same(schemaErrors(json), [], 'claims.json validates against its schema');
  t.same(json.claims.map((c) => `${c.id} ${c.verdict}`), ['a-touches confirmed', 'b-fuzzy refuted', 'c-source confirmed']);
  const text = await readFile(join(out, 'claims.txt'), 'utf8');
  t.match(text, /nothing was built or booted/);
  t.match(text, /fix: APPLIED "io_uring: change b": am, every hunk in place;\n\s+fs\/io_uring\.c \+1 -1; patch-id [0-9a-f]{12}/);
  t.match(text, /fix: applied only, not built/);
  t.match(text, /source fs \/\^int b2;\$\/\n\s+fix: APPLIED fs\/io_uring\.c:2: int b2;/, 'the source line that decides, with file and line');
  t.notMatch(text, /environment:/, 'no compiler or QEMU to name');
  t.notOk(existsSync(join(cache, 'builds')), 'no kernel was built');
});
