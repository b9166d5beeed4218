import t from 'tap';
import { evaluateClaims } from '../harness/claims/evaluate.ts';
import {
  CLAIMS_SCHEMA,
  countVerdicts,
  evidenceTable,
  formatEvaluation,
  formatMarkdownReport,
  formatVerdictTable,
  loreLink,
  toClaimsJson,
  type ClaimsReportContext,
} from '../harness/claims/report.ts';
import { loadFixtureClaims, mkClaim, ref, results } from './fixtures/claims/helpers.ts';
import { evaluateClaim } from '../harness/claims/evaluate.ts';
import type { InvalidClaim } from '../harness/claims/spec.ts';
import { formatTextReport, hideLocalDirs, publicCommand } from '../harness/claims/report-text.ts';

const PID = (c: string) => c.repeat(40);

const context: ClaimsReportContext = {
  profile: 'compat-sqpoll-6.1',
  kernelVersion: '6.1.158',
  base: 'Debian linux-source-6.1 (6.1.158-1)',
  variants: {
    base: { patches: [], configHash: 'c0ffee00c0ffee00', buildKey: 'b'.repeat(64) },
    'pavel-first': {
      patches: [{ index: 1, title: 'io_uring: refuse ring creation from compat tasks', messageId: '', patchIdPosted: PID('1'), patchIdApplied: PID('1'), method: 'am' }],
      configHash: 'c0ffee01c0ffee01',
      buildKey: 'd'.repeat(64),
    },
    'pavel-corrected': {
      patches: [
        { index: 1, title: 'io_uring: refuse SQPOLL for compat tasks', messageId: 'corrected.1@kseries.invalid', patchIdPosted: PID('2'), patchIdApplied: PID('3'), method: 'am-3way' },
      ],
      configHash: 'c0ffee02c0ffee02',
      buildKey: 'e'.repeat(64),
    },
  },
  compiler: 'gcc (Debian 12.2.0-14) 12.2.0',
  qemu: 'QEMU emulator version 7.2.19',
  accel: 'kvm',
  commands: ['npx kseries claims --profile compat-sqpoll-6.1', 'npx kseries claims --profile compat-sqpoll-6.1 --claim readv-untouched --json claims.json'],
  treeName: 'Debian linux-source-6.1.tar.xz, Linux 6.1.158',
  publicCommand: 'npx kseries claims compat-sqpoll-6.1 --tree <linux-6.1>',
  localDirs: [
    { dir: '/home/rev/runs/claims-1', name: 'run dir' },
    { dir: '/home/rev/.cache/kseries', name: 'cache' },
    { dir: '/home/rev', name: 'home' },
  ],
};

async function fixture() {
  const claims = await loadFixtureClaims();
  return { claims, evaluations: evaluateClaims(claims, results()) };
}

t.test('terminal table: one line per claim with id, verdict, UNEXPECTED, author and the claim', async (t) => {
  const { claims, evaluations } = await fixture();
  const lines = formatVerdictTable(evaluations, claims);
  t.equal(lines.length, claims.length);
  lines.forEach((l, i) => {
    t.ok(l.startsWith(claims[i]!.id), `line ${i} starts with the id`);
    t.match(l, new RegExp(claims[i]!.author), `line ${i} names the author`);
    t.notMatch(l, /\n/);
  });
  t.match(lines[1]!, /^corrected-breaks-inline-readv\s+refuted UNEXPECTED\s+Reviewer Five: The corrected diff still breaks non-SQPOLL i/);
  t.match(lines[0]!, /^compat-differs-from-native32\s+confirmed\s+Reviewer Three: /);
  t.notMatch(lines[0]!, /UNEXPECTED/);
  t.match(lines[3]!, /\.\.\.$/, 'a long claim is shortened');
  t.ok(lines.every((l) => l.length <= 130), 'fits a terminal');
});

t.test('terminal detail lists the reason and evidence lines', async (t) => {
  const { evaluations } = await fixture();
  const d = formatEvaluation(evaluations[0]!);
  t.match(d[0]!, /^compat-differs-from-native32: confirmed: /);
  t.ok(d.includes('    # setup_sqpoll: ret=-1 errno=22 EINVAL (Invalid argument)'));
});

t.test('evidence table: cases as rows, variants side by side, base first', async (t) => {
  const { evaluations } = await fixture();
  const sqpoll = evaluations.find((e) => e.id === 'corrected-sqpoll-only')!;
  const table = evidenceTable(sqpoll.evidence);
  t.match(table[0]!, /^\| case\s+\| base\s+\| pavel-corrected\s+\|$/);
  t.match(table[1]!, /^\| -+ \| -+ \| -+ \|$/);
  t.match(table.join('\n'), /\| io_uring_setup:compat setup_sqpoll\s+\| PASS ret=3\s+\| FAIL ret=-1 errno=22 EINVAL\s+\|/, 'base shown for comparison');
  t.match(table.join('\n'), /\| io_uring_setup:compat setup_default\s+\| PASS ret=3\s+\| PASS ret=3\s+\|/);
  const inline = evaluations.find((e) => e.id === 'corrected-breaks-inline-readv')!;
  t.match(evidenceTable(inline.evidence)[2]!, /^\| io_uring_readv:compat readv_inline_plain_fd \| PASS cqe\.res=13065 \(expected 13065\) \|$/, 'a measured value with its expected one is the deciding line');
  const readv = evaluations.find((e) => e.id === 'readv-untouched')!;
  t.match(evidenceTable(readv.evidence)[2]!, /^\| readv_writev:compat \| PASS\s+\| PASS\s+\| PASS\s+\|$/);
});

t.test('Markdown report: verdicts, lore links, side-by-side rows, environment and commands', async (t) => {
  const { claims, evaluations } = await fixture();
  const md = formatMarkdownReport(evaluations, claims, context);
  const lines = md.split('\n');
  t.match(md, /^# Review claims checked with kseries: compat-sqpoll-6.1\n/);
  t.ok(lines.includes('5 claims on Linux 6.1.158 (Debian linux-source-6.1 (6.1.158-1)).'));
  t.ok(lines.includes('Verdicts: 4 confirmed, 1 refuted, 1 unexpected.'));
  t.ok(lines.includes('## 1. compat-differs-from-native32: CONFIRMED'));
  t.ok(lines.includes('## 2. corrected-breaks-inline-readv: REFUTED (UNEXPECTED)'));
  t.ok(lines.includes('- Verdict: refuted (UNEXPECTED: expected confirmed)'));
  t.ok(lines.includes('- Verdict: confirmed (as expected)'));
  t.ok(lines.includes('- Said by: Reviewer Three, 2020-09-21'));
  t.ok(lines.includes('- Message-ID: <consistency.3@kseries.invalid>'));
  t.ok(lines.includes('  https://lore.kernel.org/r/consistency.3@kseries.invalid'), 'lore link');
  t.ok(lines.includes('- Claim (in our words): Neither diff changes plain readv/writev for compat tasks.'));
  t.ok(lines.includes('- Claim (in our words): With the corrected diff the same 32-bit program gets SQPOLL refused on a'), 'long prose wraps');
  t.ok(lines.includes('  64-bit kernel but granted on a 32-bit kernel.'), 'continuation indented under the item');
  t.ok(lines.includes('- Note: fixture: placeholder author and Message-ID'));
  t.match(md, /\| case\s+\| pavel-corrected\s+\|\n\| -+ \| -+ \|\n\| io_uring_setup:compat setup_sqpoll\s+\| FAIL ret=-1 errno=22 EINVAL \|\n\| io_uring_setup:native32 setup_sqpoll \| PASS ret=3\s+\|/);
  t.ok(lines.includes('    pavel-corrected, io_uring_setup:compat setup_sqpoll: FAIL'), 'deciding lines per variant');
  t.ok(lines.includes('      # setup_sqpoll: ret=-1 errno=22 EINVAL (Invalid argument)'));
  t.match(md, /## Environment\n\n- Profile: compat-sqpoll-6\.1\n- Kernel: 6\.1\.158\n- Base: Debian linux-source-6\.1 \(6\.1\.158-1\)\n- Compiler: gcc \(Debian 12\.2\.0-14\) 12\.2\.0\n- QEMU: QEMU emulator version 7\.2\.19\n- Accelerator: kvm\n/);
  t.ok(lines.includes('- base: config c0ffee00c0ff, build bbbbbbbbbbbb, no patches'));
  t.ok(lines.includes('  1. io_uring: refuse ring creation from compat tasks'));
  t.equal(lines[lines.indexOf('  1. io_uring: refuse ring creation from compat tasks') + 1], '     git am; patch-id 111111111111', 'an own patch has no Message-ID');
  t.ok(lines.includes('     <corrected.1@kseries.invalid>'));
  t.ok(lines.includes('     git am -3; patch-id 222222222222 as posted, 333333333333 as applied'), 'patch-ids that differ are both shown');
  t.ok(lines.indexOf('- base: config c0ffee00c0ff, build bbbbbbbbbbbb, no patches') < lines.findIndex((l) => l.startsWith('- pavel-corrected: config')), 'base first');
  t.match(md, /## Reproduce\n\n {4}npx kseries claims --profile compat-sqpoll-6\.1\n {4}npx kseries claims --profile compat-sqpoll-6\.1 --claim readv-untouched --json claims\.json\n/);
  t.notMatch(md, /<\/?(?:div|br|p|a|table|tr|td|details|summary|span)\b/i, 'no HTML');
  const long = lines.filter((l) => l.length > 100 && !l.startsWith('|') && !l.startsWith('    npx'));
  t.same(long, [], 'lines stay within 100 characters (tables and commands aside)');
});

t.test('inconclusive and infra-error claims are reported as such', async (t) => {
  const claims = await loadFixtureClaims();
  const res = results();
  res['pavel-first'] = { status: 'infra', reason: 'build failed' };
  const evs = evaluateClaims(claims, res, { flaky: new Set(['pavel-corrected/compat/io_uring_readv']) });
  const md = formatMarkdownReport(evs, claims, context);
  t.match(md, /## 2\. corrected-breaks-inline-readv: INCONCLUSIVE\n/);
  t.match(md, /- Why: pavel-corrected io_uring_readv:compat is marked flaky\n/);
  t.match(md, /\nVerdicts: 2 confirmed, 1 inconclusive, 2 infra-error\.\n/);
  t.match(formatVerdictTable(evs, claims)[1]!, /^corrected-breaks-inline-readv\s+inconclusive\s+Reviewer Five/);
  t.match(md, /## 4\. first-diff-refuses-every-compat-ring: INFRA-ERROR\n/);
  t.match(md, /- Verdict: infra-error \(expected: confirmed\)\n- Why: variant pavel-first: build failed\n/);
  t.match(md, /\| io_uring_setup:compat setup_default\s+\| INFRA\s+\|/);
  t.same(countVerdicts(evs), { confirmed: 2, refuted: 0, inconclusive: 1, 'infra-error': 2, unexpected: 0 });
});

t.test('claims.json carries the claim, its verdict, evidence and the environment', async (t) => {
  const { claims, evaluations } = await fixture();
  const j = toClaimsJson(evaluations, claims, context);
  t.equal(j.schema, CLAIMS_SCHEMA);
  t.equal(j.profile, 'compat-sqpoll-6.1');
  t.same(j.summary, { confirmed: 4, refuted: 1, inconclusive: 0, 'infra-error': 0, unexpected: 1, invalid: 0 });
  t.same(j.invalid, []);
  t.equal(j.claims.length, 5);
  const c = j.claims.find((x) => x.id === 'corrected-sqpoll-only')!;
  t.equal(c.verdict, 'confirmed');
  t.equal(c.lore, 'https://lore.kernel.org/r/corrected-diff.2@kseries.invalid');
  t.equal(c.author, 'Reviewer Two');
  t.same(c.observable, claims.find((x) => x.id === 'corrected-sqpoll-only')!.observable, 'the observable as written');
  t.equal(c.evidence.length, 4, 'three deciding rows and base setup_sqpoll for comparison');
  t.equal(c.evidence.filter((r) => r.context).length, 1);
  t.equal(j.variants['pavel-corrected']!.patches[0]!.patchIdApplied, PID('3'));
  t.same(JSON.parse(JSON.stringify(j)), j, 'plain JSON');
  t.equal(j.claims.find((x) => x.id === 'corrected-breaks-inline-readv')!.unexpected, true);
});

t.test('lore links keep @ readable and escape the rest', async (t) => {
  t.equal(loreLink('20200918124533.3487701-1-hch@lst.de'), 'https://lore.kernel.org/r/20200918124533.3487701-1-hch@lst.de');
  t.equal(loreLink('a/b+c@d'), 'https://lore.kernel.org/r/a%2Fb%2Bc@d');
});

const BAD: InvalidClaim[] = [{ id: 'typo', file: 'patches/p/claims/typo.json', error: 'claim patches/p/claims/typo.json: observable.case.case: probe io_uring_setup has no case "setup_sqpol" (cases: setup_default, setup_sqpoll)' }];

t.test('a bad claim file is listed with its error beside the decided claims', async (t) => {
  const { claims, evaluations } = await fixture();
  const lines = formatVerdictTable(evaluations, claims, BAD);
  t.equal(lines.length, claims.length + 1);
  t.ok(lines.at(-1)!.startsWith('typo ') && lines.at(-1)!.endsWith(`  ${BAD[0]!.error}`), 'the error in full');
  t.equal(lines.at(-1)!.indexOf('invalid'), lines[0]!.indexOf('confirmed'), 'in the verdict column');
  t.match(lines[0]!, /^compat-differs-from-native32\s+confirmed\s+Reviewer Three/);
  const md = formatMarkdownReport(evaluations, claims, context, BAD);
  t.match(md, /\nVerdicts: 4 confirmed, 1 refuted, 1 unexpected, 1 invalid claim file \(not decided\)\.\n/);
  t.match(md, /\n## Claim files not decided\n\nThese files could not be loaded; fix them and run again:\n\n- typo: claim patches\/p\/claims\/typo\.json: observable\.case\.case: probe io_uring_setup has no case\n  "setup_sqpol" \(cases: setup_default, setup_sqpoll\)\n\n## Environment/);
  t.notMatch(formatMarkdownReport(evaluations, claims, context), /not decided/, 'nothing said when every file loaded');
  const j = toClaimsJson(evaluations, claims, context, BAD);
  t.same(j.invalid, BAD);
  t.equal(j.summary.invalid, 1);
  t.equal(j.claims.length, claims.length, 'the others are decided as ever');
});

t.test("kseries' own observation: no lore link, said so instead", async (t) => {
  const own = mkClaim({ probe: ref('base', 'compat', 'readv_writev'), status: 'PASS' }, { author: 'kseries', messageId: undefined });
  const e = evaluateClaim(own, results());
  const md = formatMarkdownReport([e], [own], context);
  const lines = md.split('\n');
  t.ok(lines.includes("- Said by: kseries' own observation, 2020-09-19"));
  t.notMatch(md, /Message-ID: <|lore\.kernel\.org\/r\/test/, 'no Message-ID, no lore link');
  const j = toClaimsJson([e], [own], context);
  t.equal(j.claims[0]!.own, true);
  t.notOk('lore' in j.claims[0]!, 'no lore link');
  t.notOk('messageId' in j.claims[0]!);
  t.match(formatVerdictTable([e], [own])[0]!, /^t\s+confirmed\s+kseries: A test claim\.$/);
  const { claims, evaluations } = await fixture();
  t.notOk('own' in toClaimsJson(evaluations, claims, context).claims[0]!, 'a reviewer\'s claim has its lore link only');
});

t.test('claims.txt: a reply for the list within 72 columns, no tables, evidence in aligned columns, lore links, no local path', async (t) => {
  const { claims, evaluations } = await fixture();
  // An infra reason naming the run dir and the cache, as a failed build's does.
  const withPaths = evaluations.map((e, i) => (i === 4 ? { ...e, reason: `${e.reason}; see /home/rev/runs/claims-1/base/build.log (cache /home/rev/.cache/kseries/builds/x)` } : e));
  const txt = formatTextReport(withPaths, claims, context, [{ id: 'broken', file: '/home/rev/src/kseries/patches/p/claims/broken.json', error: 'broken.json: predicate: unknown kind' }]);
  const lines = txt.split('\n');
  t.same(lines.filter((l) => l.length > 72), [], 'every line within 72 columns');
  t.same(lines.filter((l) => /^\s*\|/.test(l) || /^#/.test(l) || /\*\*/.test(l)), [], 'no Markdown tables, headings or bold');
  t.notMatch(txt, /\/home\/rev/, 'no local path');
  t.match(txt.replace(/\s+/g, ' '), /see <run dir>\/base\/build\.log \(cache <cache>\/builds\/x\)/, 'run dir and cache named by role');
  t.ok(lines.includes('   https://lore.kernel.org/r/first-diff-review.1@kseries.invalid'), 'a link too long for the column moves left, unbroken');
  t.equal(lines[0], 'kseries claims: compat-sqpoll-6.1');
  t.equal(lines[1], 'tree: Debian linux-source-6.1.tar.xz, Linux 6.1.158');
  t.same(lines.slice(2, 4), ['5 claims: 4 confirmed, 1 refuted, 1 unexpected, 1 invalid claim file', '  (not decided)'], 'a long line wraps, hanging');
  t.equal(lines[lines.indexOf('2. corrected-breaks-inline-readv: REFUTED (UNEXPECTED: expected') + 1], '   confirmed)');
  t.ok(lines.includes('   said by: Reviewer Three, 2020-09-21'));
  t.ok(lines.includes('            https://lore.kernel.org/r/consistency.3@kseries.invalid'), 'lore link under the author');
  const ev = txt.slice(txt.indexOf('corrected-sqpoll-only'));
  t.match(ev, /\n {5}io_uring_setup:compat setup_sqpoll\n {7}base: {12}PASS ret=3\n {7}pavel-corrected: FAIL ret=-1 errno=22 EINVAL\n/, 'the variants of one case side by side, values in one column');
  const claimLine = lines.findIndex((l) => l.startsWith('   claim:   With the corrected diff'));
  t.ok(claimLine > 0, 'the claim in our words');
  t.match(lines[claimLine + 1]!, /^ {12}\S/, 'wrapped prose continues in the column after its label');
  t.ok(lines.includes('claim files not decided (fix them and run again):'));
  t.ok(lines.includes('  broken: broken.json: predicate: unknown kind'));
  t.ok(lines.includes('  base: config c0ffee00c0ff, build bbbbbbbbbbbb, no patches'));
  t.ok(lines.includes('    1. io_uring: refuse SQPOLL for compat tasks'));
  t.ok(lines.includes('       <corrected.1@kseries.invalid>'));
  t.match(txt, /\n {7}git am -3; patch-id 222222222222 as posted, 333333333333 as\n {7}applied\n/);
  t.ok(lines.includes('  npx kseries claims compat-sqpoll-6.1 --tree <linux-6.1>'), 'the command without its paths');
  t.notMatch(txt, /reproducer\.sh/, 'no per-run-dir scripts in a reply');

  // A Message-ID whose link no line can hold: never broken, alone at the line's start.
  const longId = `CALCETrUEC81va8-fuUXG1uA5rbKxnKDYsDOXC70_HtKD4LAeAg@mail.gmail.com`;
  const c0 = claims.find((c) => c.id === evaluations[0]!.id)!;
  const long = formatTextReport([evaluations[0]!], [{ ...c0, messageId: longId }], context).split('\n');
  t.ok(long.includes(`https://lore.kernel.org/r/${longId}`), 'the long link on a line of its own');
  t.same(long.filter((l) => l.length > 72 && !l.startsWith('https://')), [], 'everything else within 72');
});

t.test('publicCommand cuts each local path to its last component; hideLocalDirs names dirs by role, longest first', async (t) => {
  t.equal(
    publicCommand(['review', '<a@b>', '--tree', '/tmp/linux-5.9.1/', '--inbox=/work/.mirror/io-uring/repo', '--port', '<d5@x>=/w/patches/own/p.patch', '--only', 'it is', './rel/dir']),
    "review '<a@b>' --tree <linux-5.9.1> --inbox=<repo> --port '<d5@x>=<p.patch>' --only 'it is' <dir>",
  );
  t.equal(hideLocalDirs('/h/.cache/k/x and /h/y', [{ dir: '/h', name: 'home' }, { dir: '/h/.cache/k', name: 'cache' }]), '<cache>/x and <home>/y');
  t.equal(hideLocalDirs('/ stays', [{ dir: '/', name: 'root' }]), '/ stays', 'a one-character dir is never replaced');
});
