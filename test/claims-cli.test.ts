// kseries claims on a synthetic profile: bad claim files are reported one by
// one. Nothing here builds or boots a kernel: every run stops before the tree
// is touched.
import t from 'tap';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimsExitCode } from '../harness/commands/claims.ts';

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

t.test('a profile whose every claim file is bad is a usage error before anything is built', async (t) => {
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
