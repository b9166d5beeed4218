// End to end: build Debian's 6.1 (the default tree) and boot it under QEMU.
// The first run pays for the build (cached by key, ccache underneath);
// everything after reuses it, so the failure modes below cost a boot each.
import t from 'tap';
import { junitSchemaErrors } from './fixtures/junit/validate.ts';
import { parseConsole } from '../harness/console/parse-console.ts';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { schemaErrors } from './fixtures/json/validate.ts';
import { splitMbox } from '../harness/mail/mbox.ts';
import { kcidbErrors } from './fixtures/kcidb/validate.ts';
import { chromiumMissing, pixelsOf, readPng, screenshot } from './fixtures/html/screenshot.ts';

const repo = join(import.meta.dirname, '..');
const cacheArgs = process.env.KSERIES_CACHE ? ['--cache', process.env.KSERIES_CACHE] : [];
const kseries = (args: string[]) =>
  execa('node', [join(repo, 'bin/kseries.js'), ...args], { reject: false, all: true, env: { FORCE_COLOR: '0' } });
const runDir = () => mkdtemp(join(tmpdir(), 'kseries-e2e-'));

interface ResultsJson {
  status: string;
  exitCode: number;
  run: Record<string, unknown>;
  probes: { id: string; abi: string; status: string; cases: { name: string; status: string; diagnostics: string[] }[] }[];
}

t.test('default tree: every probe passes on both ABIs, artefacts kept', async (t) => {
  const out = await runDir();
  const r = await kseries(['run', ...cacheArgs, '--out', out]);
  t.equal(r.exitCode, 0, r.all);
  for (const f of ['console.log', 'build.log', 'results.json', 'reproducer.sh', 'config', 'bzImage', 'initramfs.cpio']) {
    t.ok(existsSync(join(out, f)), `${f} in the run dir`);
  }
  const res = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as ResultsJson;
  t.same(schemaErrors(res), [], 'results.json of a real run validates against its schema');
  t.equal(res.status, 'PASS');
  const ids = res.probes.map((p) => p.id);
  for (const probe of ['readv_writev', 'io_uring_setup', 'io_uring_readv']) {
    for (const abi of ['compat', 'native64']) t.ok(ids.includes(`${probe}:${abi}`), `${probe}:${abi} ran`);
  }
  for (const p of res.probes) {
    // Every cell passes, or says why it cannot as a SKIP with a reason: no silent omissions.
    t.ok(p.status === 'PASS' || (p.status === 'SKIP' && /\S/.test(String((p as { reason?: string }).reason ?? ''))), `${p.id}: ${p.status}`);
    t.ok(p.cases.length > 0, `${p.id} reported its cases`);
    for (const c of p.cases) t.not(c.status, 'FAIL', `${p.id} ${c.name}`);
  }
  // Data was compared byte for byte, and the evidence is in the diagnostics.
  const readv = res.probes.find((p) => p.id === 'io_uring_readv:compat')!;
  t.ok(readv.cases.some((c) => c.name.includes('sqpoll')), 'SQPOLL case present');
  t.match(readv.cases.flatMap((c) => c.diagnostics).join('\n'), /identical/);
  t.match(r.all, /elapsed: .*build .*boot/);
  // The init ends the run with reboot() after its done line; -no-reboot makes that QEMU's exit.
  const consoleText = await readFile(join(out, 'console.log'), 'utf8');
  t.match(consoleText, /# kseries-init: done\r?\n(.*\r?\n)*?.*reboot: Restarting system/);
  t.equal(parseConsole(consoleText).poweredOff, true, 'a clean shutdown, not an unexpected reboot');
  t.notMatch(await readFile(join(out, 'config'), 'utf8'), /^CONFIG_(ACPI|PCI)=y/m, 'a kernel without ACPI and PCI');
  t.match(await readFile(join(out, 'reproducer.sh'), 'utf8'), /qemu-system-x86_64 .* -kernel "\$KERNEL"/);
  t.match(String(res.run.accelReason), /\S/, 'says which accelerator and why');

  // Re-parsing the saved console gives the same verdict and exit code.
  const parsed = await kseries(['parse', join(out, 'console.log'), '--json', '-']);
  t.equal(parsed.exitCode, 0);
  t.same(JSON.parse(parsed.stdout).probes.map((p: { id: string }) => p.id), ids);
});

t.test('native32: the same probes on an i386 kernel built from the same tree', async (t) => {
  const out = await runDir();
  const r = await kseries(['run', ...cacheArgs, '--abi', 'native32', '--out', out, '--json', '-']);
  t.equal(r.exitCode, 0, r.stderr);
  const res = JSON.parse(r.stdout) as ResultsJson & { matrix: { abis: string[] } };
  t.equal(res.run.arch, 'i386');
  t.same(res.matrix.abis, ['native32']);
  t.ok(res.probes.length >= 3);
  for (const p of res.probes) {
    t.equal(p.abi, 'native32');
    t.ok(p.status === 'PASS' || (p.status === 'SKIP' && /\S/.test(String((p as { reason?: string }).reason ?? ''))), `${p.id}: ${p.status}`);
  }
  t.match(await readFile(join(out, 'console.log'), 'utf8'), /uname \S+ i686/);
});

t.test('x32: the probes as -mx32 binaries on the same x86_64 kernel', async (t) => {
  const out = await runDir();
  // native64 too: io_uring_cross_abi's x32 run needs its x86_64 sibling in the image.
  const r = await kseries(['run', ...cacheArgs, '--abi', 'native64,x32', '--out', out, '--json', '-']);
  t.equal(r.exitCode, 0, r.stderr);
  const res = JSON.parse(r.stdout) as ResultsJson & { matrix: { abis: string[] } };
  t.equal(res.run.arch, 'x86_64');
  t.same(res.matrix.abis, ['native64', 'x32']);
  const x32 = res.probes.filter((p) => p.abi === 'x32');
  t.ok(x32.length >= 3);
  t.equal(x32.length, res.probes.length / 2, 'every probe ran from both ABIs');
  for (const p of x32) {
    t.ok(p.status === 'PASS' || (p.status === 'SKIP' && /\S/.test(String((p as { reason?: string }).reason ?? ''))), `${p.id}: ${p.status}`);
  }
  t.match(await readFile(join(out, 'config'), 'utf8'), /^CONFIG_X86_X32_ABI=y$/m, 'the kernel has the x32 ABI');
  t.match(await readFile(join(out, 'console.log'), 'utf8'), /this binary: \/kseries\/bin\/x32\/io_uring_cross_abi \(x32\); sibling: \/kseries\/bin\/x86_64\//, 'the x32 binary ran, its x86_64 sibling beside it');
});

t.test('a second run reuses the build', async (t) => {
  const out = await runDir();
  const r = await kseries(['run', ...cacheArgs, '--out', out, '--json', '-']);
  t.equal(r.exitCode, 0, r.stderr);
  const res = JSON.parse(r.stdout) as ResultsJson;
  t.equal(res.run.buildCacheHit, true);
  t.match(await readFile(join(out, 'build.log'), 'utf8'), /^kseries: build cache hit /);
});

t.test('user payloads: a plain program becomes one test point, its output kept', async (t) => {
  const out = await runDir();
  // The guest's probes are static binaries: reuse one as a "reproducer" payload.
  const guest = join(out, 'payload');
  await execa('make', ['-s', '-C', join(repo, 'images'), `OUT=${guest}`, 'all']);
  const r = await kseries([
    'run', ...cacheArgs, '--out', out, '--probe', 'readv_writev', '--abi', 'compat',
    '--add', `${guest}/i386/io_uring_setup:/opt/repro`, '--exec', '/opt/repro', '--json', '-',
  ]);
  t.equal(r.exitCode, 0, r.stderr);
  const res = JSON.parse(r.stdout) as ResultsJson;
  t.same(res.probes.map((p) => `${p.id}=${p.abi}=${p.status}`), ['readv_writev:compat=compat=PASS', 'exec:repro=x86_64=PASS'], 'the exec row is on the guest arch that ran it');
  t.ok(res.probes[1]!.cases.length > 0, "the payload's own KTAP is nested as cases");

  // A program the guest does not have is refused before anything is built or created.
  const out2 = join(out, 'missing');
  const m = await kseries(['run', ...cacheArgs, '--out', out2, '--probe', 'readv_writev', '--abi', 'compat', '--exec', '/opt/missing']);
  t.equal(m.exitCode, 2);
  t.match(m.stderr, /kseries: error: .*\/opt\/missing/);
  t.equal(m.stderr.trim().split('\n').length, 1, 'one error line');
  t.notOk(existsSync(out2), 'no run directory');
});

t.test('a requested option that olddefconfig drops is named, exit 2', async (t) => {
  const out = await runDir();
  const r = await kseries(['run', ...cacheArgs, '--out', out, '--kconfig', 'CONFIG_KSERIES_NO_SUCH_OPTION=y']);
  t.equal(r.exitCode, 2);
  t.match(r.stderr, /dropped requested options: CONFIG_KSERIES_NO_SUCH_OPTION=y \(got not set\)/);
  t.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('kseries: error')).length, 1, 'one error line');
  t.equal(JSON.parse(await readFile(join(out, 'results.json'), 'utf8')).exitCode, 2);
});

t.test('a boot that does not finish in time is a hang, exit 124', async (t) => {
  const out = await runDir();
  const r = await kseries(['run', ...cacheArgs, '--out', out, '--boot-timeout', '1', '--json', '-']);
  t.equal(r.exitCode, 124, r.stderr);
  const res = JSON.parse(r.stdout);
  t.ok(res.findings.some((f: { kind: string }) => f.kind === 'hang'));
  t.ok(existsSync(join(out, 'console.log')));
});

t.test('Ctrl-C during a build kills make and leaves no half-written cache entry', async (t) => {
  const cache = process.env.KSERIES_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kseries');
  // An option no other run asks for, so this run really starts a build.
  const p = execa('node', [join(repo, 'bin/kseries.js'), 'run', ...cacheArgs, '--out', await runDir(), '--kconfig', 'CONFIG_UNIX98_PTYS=y'], { reject: false, all: true });
  let seen = '';
  await new Promise<void>((resolve) => {
    p.all!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (/build: \d+ objects/.test(seen)) resolve();
    });
    void p.then(() => resolve());
  });
  p.kill('SIGINT');
  const r = await p;
  t.equal(r.exitCode, 130, seen);
  const left = (await readdir(join(cache, 'builds'))).filter((n) => /\.(tmp-|lock)/.test(n));
  t.same(left, [], 'no temporary entry or lock left');
  // The interrupted build ran in <cache>/builds/<key>.tmp-<pid>; nothing may still run there.
  const makes = await execa('pgrep', ['-af', `O=${join(cache, 'builds')}/[0-9a-f]+\\.tmp-`], { reject: false });
  t.equal(makes.stdout.trim(), '', 'no make left running');
});

t.test('offline profile, series path: the demo series refuses compat rings; its base variant is the plain build', async (t) => {
  const out = await runDir();
  const r = await kseries(['run', ...cacheArgs, '--profile', 'compat-sqpoll-6.1', '--variant', 'demo', '--abi', 'compat,native64', '--out', out, '--json', '-']);
  t.equal(r.exitCode, 1, 'a probe fails: that is what patch 3 does');
  const res = JSON.parse(r.stdout) as ResultsJson & { run: { applied: { index: number; method: string; title: string }[]; branch: string } };
  t.same(res.run.applied.map((p) => `${p.index}:${p.method}`), ['1:am', '2:am', '3:am', '4:am', '5:am']);
  t.equal(res.run.branch, 'kseries/compat-sqpoll-6.1/demo');
  const status = Object.fromEntries(res.probes.map((p) => [p.id, p.status]));
  t.equal(status['io_uring_setup:compat'], 'FAIL');
  t.equal(status['io_uring_setup:native64'], 'PASS');
  t.equal(status['readv_writev:compat'], 'PASS');
  const setup = res.probes.find((p) => p.id === 'io_uring_setup:compat')!;
  t.match(setup.cases.find((c) => c.name === 'setup_default')!.diagnostics.join('\n'), /errno=22 EINVAL/, 'the evidence is the errno');

  const base = await kseries(['run', ...cacheArgs, '--profile', 'compat-sqpoll-6.1', '--variant', 'base', '--abi', 'compat,native64', '--out', await runDir(), '--json', '-']);
  t.equal(base.exitCode, 0);
  t.equal(JSON.parse(base.stdout).run.buildCacheHit, true, 'the base variant is the plain default-tree build');
});

t.test('a multi-variant run (both builds cached) as KCIDB and as one HTML page, screenshotted in headless Chromium', async (t) => {
  const out = await runDir();
  const page = join(out, 'page.html');
  const kcidb = join(out, 'kcidb.json');
  const junit = join(out, 'junit.xml');
  const r = await kseries(['run', ...cacheArgs, '--profile', 'compat-sqpoll-6.1', '--variant', 'base,demo', '--abi', 'compat,native64', '--out', out, '--html', page, '--kcidb', kcidb, '--junit', junit]);
  t.equal(r.exitCode, 1, 'demo fails io_uring_setup:compat');
  const xml = await readFile(junit, 'utf8');
  t.same(await junitSchemaErrors(xml), [], 'the JUnit document of a real run validates against the common JUnit schema');
  t.match(xml, /<testsuite name="demo\.io_uring_setup:compat"[^>]* failures="[1-9]/, 'the failing variant\'s suite counts its failures');
  t.match(xml, /<testsuite name="base\.io_uring_setup:compat"[^>]* failures="0"/);
  const doc = JSON.parse(await readFile(kcidb, 'utf8')) as { checkouts: { patchset_hash: string }[]; tests: { path: string; status: string }[] };
  t.same(kcidbErrors(doc), [], 'the KCIDB document of a real run validates against kcidb-io\'s schema');
  t.equal(doc.checkouts.length, 2, 'one checkout per source state');
  t.ok(doc.tests.some((x) => x.path === 'kseries.io_uring_setup.compat.setup_default' && x.status === 'FAIL'));
  const html = await readFile(page, 'utf8');
  t.match(html, /<th>base<\/th><th>demo<\/th>/, 'a column per variant');
  t.match(html, /<tr><td>io_uring_setup<\/td><td>compat<\/td><td class="PASS"[^>]*>PASS<\/td><td class="FAIL"[^>]*>FAIL<span class="mark">Δbase<\/span><\/td><\/tr>/);
  const missing = chromiumMissing();
  if (missing) {
    t.comment(`no screenshot: ${missing}`);
    return;
  }
  const artefacts = join(repo, 'runs', 'test-artefacts');
  await mkdir(artefacts, { recursive: true });
  const png = join(artefacts, 'e2e-multi-variant.png');
  screenshot(page, png);
  const img = readPng(png);
  t.ok(pixelsOf(img, '#cdeccd') > 500 && pixelsOf(img, '#f6c6c6') > 100, 'PASS and FAIL cells drawn in their colours');
  t.comment(`screenshot: ${png}`);
});

t.test('kseries check as b4 runs it: patch 3/5 of the demo series on stdin, the probe built and booted, JSON out', async (t) => {
  const mbox = join(repo, 'patches/compat-sqpoll-6.1/series/refuse-compat-demo.mbox');
  const mails = splitMbox(await readFile(mbox));
  const third = mails.find((m) => m.toString('latin1').includes('Subject: [PATCH 3/5]'))!;
  const out = await runDir();
  const r = await execa('node', [join(repo, 'bin/kseries.js'), 'check', ...cacheArgs, '--out', out, '--no-lore', '--mbox', mbox, '--probe', 'io_uring_setup:compat', '--probe', 'io_uring_setup:native64'], { input: third, reject: false, env: { FORCE_COLOR: '0' } });
  t.equal(r.exitCode, 0, r.stderr);
  const results = JSON.parse(r.stdout) as { tool: string; status: string; summary: string }[];
  t.same(results.map((x) => `${x.tool} ${x.status}`), ['kseries/apply pass', 'kseries/io_uring_setup:compat fail', 'kseries/io_uring_setup:native64 pass']);
  t.equal(results[0]!.summary, '3 patches applied with git am', 'the series up to the patch b4 gave');
  t.match(results[1]!.summary, /^FAIL\b.*setup_default FAIL/);
});

t.test('bisecting the demo series for compat io_uring_setup names the planted patch 3/5', async (t) => {
  const out = await runDir();
  const r = await kseries(['bisect', ...cacheArgs, '--profile', 'compat-sqpoll-6.1', '--variant', 'demo', '--probe', 'io_uring_setup:compat', '--out', out, '--json', '-']);
  t.equal(r.exitCode, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  t.equal(res.status, 'found');
  t.equal(res.firstBad, 3);
  t.equal(res.patches[2].title, 'io_uring: refuse ring creation from compat tasks');
  // 5 patches: the two ends, then at most ceil(log2(5+1)) = 3 middle steps.
  t.same(res.steps.slice(0, 2).map((s: { k: number }) => s.k), [0, 5]);
  t.ok(res.steps.length - 2 <= Math.ceil(Math.log2(6)), `${res.steps.length - 2} middle steps`);
  t.equal(res.confidence, 'certain');
  t.match(r.stderr, /evidence: last good \(prefix 2\) \| first bad \(prefix 3\)/);
  t.match(r.stderr, /setup_default\s+PASS .*\| FAIL .*EINVAL/);
});

t.test('make test-kernel\'s job: the offline claims are all decided, with reports', async (t) => {
  const out = await runDir();
  const md = join(out, 'report.md');
  const r = await kseries(['claims', 'compat-sqpoll-6.1', ...cacheArgs, '--out', out, '--json', '-', '--markdown', md]);
  const res = JSON.parse(r.stdout) as { claims: { id: string; verdict: string; unexpected?: boolean }[] };
  const verdicts = Object.fromEntries(res.claims.map((c) => [c.id, c.verdict]));
  t.equal(r.exitCode, 0, `${r.stderr}\n${JSON.stringify(verdicts)}`);
  t.equal(res.claims.length, 8);
  t.same(schemaErrors(res), [], 'claims.json validates against its schema');
  // Each variant's directory keeps its results.json, as a run's does.
  const variantDirs = (await readdir(out, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  t.ok(variantDirs.length >= 2, `variant dirs: ${variantDirs.join(', ')}`);
  for (const v of variantDirs) {
    const vr = JSON.parse(await readFile(join(out, v, 'results.json'), 'utf8')) as ResultsJson;
    t.same(schemaErrors(vr), [], `${v}/results.json validates`);
    t.ok(vr.probes.length > 0, `${v}/results.json has the probes`);
  }
  for (const c of res.claims) t.ok(['confirmed', 'refuted'].includes(c.verdict), `${c.id}: ${c.verdict}`);
  // What the kernel must show for the claims our own variants were written to test:
  t.equal(verdicts['3-first-diff-refuses-every-compat-ring'], 'confirmed');
  t.equal(verdicts['4-corrected-diff-compat-differs-from-native32'], 'confirmed');
  t.equal(verdicts['4b-consistent-form-treats-32-bit-alike'], 'confirmed');
  t.equal(verdicts['8-x32-iovec-paths-match-compat'], 'confirmed', 'the x32 probes ran and match compat');
  const report = await readFile(md, 'utf8');
  t.match(report, /https:\/\/lore\.kernel\.org\/r\/CALCETrUEC81va8-fuUXG1uA5rbKxnKDYsDOXC70_HtKD4LAeAg@mail\.gmail\.com/);
  t.match(report, /setup_sqpoll/);
  t.match(r.stderr, /4-corrected-diff-compat-differs-from-native32\s+confirmed/);
  // The reply for the list: 72 columns, no local path, the lore links and the deciding lines.
  const txt = await readFile(join(out, 'claims.txt'), 'utf8');
  t.same(txt.split('\n').filter((l) => l.length > 72 && !/^https:\/\/\S+$/.test(l)), [], 'claims.txt fits 72 columns, but for a link too long for any line, alone on its own');
  for (const local of [out, ...cacheArgs.slice(1), homedir(), process.cwd()]) t.notOk(txt.includes(local), `claims.txt names no local path (${local})`);
  t.match(txt, /^tree: Debian linux-source-6\.1[^\n]*, Linux 6\.1\.\d+$/m, 'the tree by name and version');
  t.match(txt, /https:\/\/lore\.kernel\.org\/r\/CALCETrUEC81va8-fuUXG1uA5rbKxnKDYsDOXC70_HtKD4LAeAg@mail\.gmail\.com/);
  t.match(txt, /^ {7}\S+: +FAIL ret=-1 errno=22 EINVAL$/m, 'evidence in aligned columns');
  t.match(r.stderr, /reports: \S+claims\.txt, claims\.md and claims\.json/);
});

t.test('usage errors exit 2 with one line', async (t) => {
  const r = await kseries(['run', '--probe', 'no_such_probe', ...cacheArgs, '--out', await runDir()]);
  t.equal(r.exitCode, 2);
  t.match(r.stderr, /unknown probe no_such_probe/);
  const r2 = await kseries(['run', '--tarball', '/x.tar.xz']);
  t.equal(r2.exitCode, 2);
  t.match(r2.stderr, /--tarball needs --sha256/);
});
