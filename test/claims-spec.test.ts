import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadClaims, parseClaim, parseClaimText, predicateRefs, readClaims, selectClaims, selectLoaded, claimMessageId, refLabel, isOwnClaim } from '../harness/claims/spec.ts';
import { loadProbeCases, type ProbeCaseTable } from '../harness/claims/probe-cases.ts';
import { KseriesError } from '../harness/util/errors.ts';
import { BAD_PROFILE_DIR, PROBES, VARIANTS, fixtureProfile, loadFixtureClaims, mkClaim, ref } from './fixtures/claims/helpers.ts';

const ctx = { file: 'patches/p/claims/my-claim.json', variants: VARIANTS, probes: PROBES };

/** A valid raw claim; tests break one field at a time. */
function valid(): Record<string, unknown> {
  return {
    author: 'Reviewer',
    messageId: '<abc.1@example.org>',
    date: '2020-09-19',
    claim: 'The corrected diff refuses SQPOLL for compat tasks only.',
    variants: ['base', 'pavel-corrected'],
    abis: ['compat', 'native32'],
    probes: ['io_uring_setup'],
    observable: {
      all: [
        { case: ref('pavel-corrected', 'compat', 'io_uring_setup', 'setup_sqpoll'), status: 'FAIL', diagnostic: 'EINVAL' },
        { same: [ref('base', 'native32', 'io_uring_setup', 'setup_sqpoll'), ref('pavel-corrected', 'native32', 'io_uring_setup', 'setup_sqpoll')] },
      ],
    },
  };
}

/** parseClaim must throw a one-line usage error (exit 2) naming the file and matching `re`. */
function rejects(t: Test, raw: unknown, re: RegExp, what: string) {
  try {
    parseClaim(raw, ctx);
    t.fail(`${what}: accepted`);
  } catch (e) {
    t.ok(e instanceof KseriesError, `${what}: a KseriesError`);
    t.equal((e as KseriesError).exitCode, 2, `${what}: exit 2`);
    const msg = (e as Error).message;
    t.match(msg, /^claim patches\/p\/claims\/my-claim\.json: /, `${what}: names the file`);
    t.notMatch(msg, /\n/, `${what}: one line`);
    t.match(msg, re, what);
  }
}

const withField = (k: string, v: unknown) => ({ ...valid(), [k]: v });
const withObservable = (o: unknown, extra: Record<string, unknown> = {}) => ({ ...valid(), ...extra, observable: o });

t.test('a valid claim parses; id defaults to the file name, Message-ID loses its <>', async (t) => {
  const c = parseClaim(valid(), ctx);
  t.equal(c.id, 'my-claim');
  t.equal(c.messageId, 'abc.1@example.org');
  t.equal(c.file, ctx.file);
  t.same(c.variants, ['base', 'pavel-corrected']);
  t.equal(c.expect, undefined);
  t.same(predicateRefs(c.observable).map(refLabel), [
    'pavel-corrected io_uring_setup:compat setup_sqpoll',
    'base io_uring_setup:native32 setup_sqpoll',
    'pavel-corrected io_uring_setup:native32 setup_sqpoll',
  ]);
  const withId = parseClaim({ ...valid(), id: 'explicit-id', expect: 'refuted', note: '  from v1 1/9  ' }, ctx);
  t.equal(withId.id, 'explicit-id');
  t.equal(withId.expect, 'refuted');
  t.equal(withId.note, 'from v1 1/9');
});

t.test('variants, ABIs and probes are checked against what exists', async (t) => {
  rejects(t, withField('variants', ['base', 'v9']), /variants: unknown variant "v9" \(have: base, demo, pavel-first/, 'unknown variant');
  rejects(t, withField('probes', ['io_uring_fancy']), /probes: unknown probe "io_uring_fancy" \(have: io_uring_setup/, 'unknown probe');
  rejects(t, withField('abis', ['compat', 'arm64']), /abis: unknown ABI "arm64" \(have: compat, native64, x32, native32\)/, 'unknown ABI');
  rejects(t, withField('variants', []), /variants: must be a non-empty list of variant names/, 'empty variants');
  rejects(t, withField('variants', ['base', 'base', 'pavel-corrected']), /variants: "base" is listed twice/, 'duplicate');
});

t.test('every ref must be among the declared variants, ABIs and probes', async (t) => {
  rejects(
    t,
    withObservable({ case: ref('pavel-first', 'compat', 'io_uring_setup', 'setup_default'), status: 'FAIL' }),
    /observable\.case\.variant: "pavel-first" is not among the claim's variants \(base, pavel-corrected\)/,
    'variant outside the declaration',
  );
  rejects(
    t,
    withObservable({ all: [valid().observable, { probe: ref('base', 'native64', 'io_uring_setup'), status: 'PASS' }] }),
    /observable\.all\[1\]\.probe\.abi: "native64" is not among the claim's abis \(compat, native32\)/,
    'ABI outside the declaration, nested',
  );
  rejects(
    t,
    withObservable({ not: { differ: [ref('base', 'compat', 'io_uring_setup'), ref('base', 'compat', 'readv_writev')] } }),
    /observable\.not\.differ\[1\]\.probe: "readv_writev" is not among the claim's probes \(io_uring_setup\)/,
    'probe outside the declaration',
  );
  rejects(
    t,
    withObservable({ case: ref('pavel-corrected', 'compat', 'io_uring_setup', 'setup_sqpoll'), status: 'FAIL' }),
    /variants: "base" is declared but the observable never refers to it/,
    'declared but unused',
  );
});

t.test('the claim text is short and in the reviewer\'s own words', async (t) => {
  rejects(t, withField('claim', 'x'.repeat(401)), /claim: 401 characters, at most 400: say it in your own words/, 'too long');
  t.equal(parseClaim(withField('claim', 'y'.repeat(400)), ctx).claim.length, 400, '400 is fine');
  rejects(t, withField('claim', '   '), /claim: is required/, 'blank');
  await t.rejects(loadClaims(fixtureProfile(BAD_PROFILE_DIR), PROBES), /quoted-mail\.json: claim: \d+ characters, at most 400/, 'a long quote in a file');
});

t.test('statuses and regexes are checked', async (t) => {
  const c = ref('pavel-corrected', 'compat', 'io_uring_setup', 'setup_sqpoll');
  const n32 = ref('base', 'native32', 'io_uring_setup', 'setup_sqpoll');
  const keep = { same: [n32, { ...n32, variant: 'pavel-corrected' }] };
  rejects(t, withObservable({ all: [{ case: c, status: 'CRASHED' }, keep] }), /observable\.all\[0\]\.status: "CRASHED" is not one of PASS, FAIL, SKIP/, 'case status');
  rejects(t, withObservable({ all: [{ probe: { ...c, case: undefined }, status: 'OK' }, keep] }), /observable\.all\[0\]\.status: "OK" is not one of PASS, FAIL, SKIP, TIMEOUT, CRASHED/, 'probe status');
  rejects(t, withObservable({ all: [{ case: c, status: 'FAIL', diagnostic: 'errno=(' }, keep] }), /observable\.all\[0\]\.diagnostic: bad regular expression/, 'bad regex');
  rejects(t, withField('expect', 'maybe'), /expect: "maybe" is not one of confirmed, refuted/, 'expect');
});

t.test('predicate shapes are checked', async (t) => {
  const c = ref('pavel-corrected', 'compat', 'io_uring_setup', 'setup_sqpoll');
  const b = ref('base', 'native32', 'io_uring_setup', 'setup_sqpoll');
  rejects(t, withObservable({ case: c, status: 'FAIL', same: [b, b] }), /observable: has both "case" and "same"/, 'two kinds');
  rejects(t, withObservable({ status: 'FAIL' }), /observable: needs one of: case, probe, same, differ, kmsg, touches, applies, samePatch, source, all, any, not/, 'no kind');
  rejects(t, withObservable({ all: [{ case: c, status: 'FAIL', diagnostics: 'x' }] }), /observable\.all\[0\]\.diagnostics: not allowed in a "case" predicate/, 'typo in a field');
  rejects(t, withObservable({ all: [] }), /observable\.all: must be a non-empty list of predicates/, 'empty all');
  rejects(t, withObservable({ same: [c] }), /observable\.same: must be a list of exactly two refs/, 'one ref');
  rejects(t, withObservable({ same: [c, { ...b, case: undefined, variant: 'base' }] }), /give "case" on both refs or neither/, 'case vs probe');
  rejects(t, withObservable({ all: [{ probe: c, status: 'FAIL' }] }), /observable\.all\[0\]\.probe\.case: not allowed here/, 'case in a probe ref');
  rejects(t, withObservable({ case: { ...c, case: undefined }, status: 'FAIL' }), /observable\.case\.case: is required/, 'case ref without case');
  rejects(t, withObservable({ all: [{ case: { ...c, kase: 'x' }, status: 'FAIL' }] }), /observable\.all\[0\]\.case\.kase: unknown field/, 'unknown ref field');
  rejects(t, withObservable({ same: [b, b] }), /compares a ref with itself/, 'self comparison');
  const n32 = { ...b, variant: 'pavel-corrected' };
  rejects(t, withObservable({ all: [{ same: [b, n32], value: 'sq_entries=\\d+' }, { case: c, status: 'FAIL' }] }), /observable\.all\[0\]\.value: \/sq_entries=\\d\+\/ has no capture group/, 'value without a group');
  rejects(t, withObservable({ all: [{ same: [b, n32], value: 'sq_entries=(' }, { case: c, status: 'FAIL' }] }), /observable\.all\[0\]\.value: bad regular expression/, 'bad value regex');
  const probeRef = (r: typeof b) => ({ variant: r.variant, abi: r.abi, probe: r.probe });
  rejects(t, withObservable({ all: [{ differ: [probeRef(b), probeRef(n32)], value: 'x=(\\d+)' }, { case: c, status: 'FAIL' }] }), /value: compares a value of a case: give "case" on both refs/, 'value on probes');
  rejects(t, withObservable({ all: [{ case: c, status: 'FAIL', value: 'x=(\\d+)' }, { same: [b, n32] }] }), /observable\.all\[0\]\.value: not allowed in a "case" predicate/, 'value on a case predicate');
  const pr = { variant: c.variant, abi: c.abi, probe: c.probe };
  rejects(t, withObservable({ kmsg: pr }), /observable\.pattern: is required/, 'kmsg without a pattern');
  rejects(t, withObservable({ kmsg: pr, pattern: 'WARN(' }), /observable\.pattern: bad regular expression/, 'kmsg with a bad pattern');
  rejects(t, withObservable({ kmsg: c, pattern: 'WARN' }), /observable\.kmsg\.case: not allowed here/, 'kmsg of one case');
  rejects(t, withObservable({ kmsg: pr, pattern: 'WARN', present: 'no' }), /observable\.present: must be true or false/, 'present not a boolean');
  t.same(mkClaim({ kmsg: pr, pattern: 'WARN' }).observable, { kmsg: pr, pattern: 'WARN', present: true }, 'present defaults to true');
  const v = { variant: 'pavel-corrected', patch: 1 };
  const seriesOnly = (observable: unknown) => ({ ...withObservable(observable), variants: ['pavel-corrected', 'base'], abis: undefined, probes: undefined });
  const sp = parseClaim(seriesOnly({ all: [{ touches: { variant: 'base' }, path: 'x' }, { applies: v, method: 'am-3way', exact: false }, { not: { samePatch: [v, { variant: 'base', patch: 2 }] } }] }), ctx);
  t.same([sp.abis, sp.probes], [[], []], 'a claim about the series alone needs no ABIs or probes');
  rejects(t, seriesOnly({ touches: { variant: 'base', patch: 0 }, path: 'x' }), /observable\.touches\.patch: 0 is not a patch number/, 'patch 0');
  rejects(t, seriesOnly({ touches: { variant: 'base' } }), /observable\.path: is required/, 'touches without a path');
  rejects(t, seriesOnly({ touches: { variant: 'v9' }, path: 'x' }), /observable\.touches\.variant: "v9" is not among the claim's variants/, 'undeclared variant');
  rejects(t, seriesOnly({ applies: { variant: 'base' }, method: 'am' }), /observable\.applies\.patch: is required/, 'applies needs a patch');
  rejects(t, seriesOnly({ applies: v }), /an "applies" predicate needs "method" or "exact"/, 'applies needs something to check');
  rejects(t, seriesOnly({ applies: v, method: 'quilt' }), /observable\.method: "quilt" is not one of am, am-3way, fuzzy/, 'unknown method');
  rejects(t, seriesOnly({ samePatch: [v, v] }), /compares a patch with itself/, 'samePatch with itself');
  rejects(t, seriesOnly({ touches: { variant: 'pavel-corrected' }, path: 'x' }), /variants: "base" is declared but the observable never refers to it/, 'declared variants must be used');
  t.same(parseClaim(seriesOnly({ all: [{ source: { variant: 'base' }, path: 'include/linux/', pattern: 'PF_FORCE_COMPAT' }, { touches: { variant: 'pavel-corrected' }, path: 'x' }] }), ctx).observable,
    { all: [{ source: { variant: 'base' }, path: 'include/linux', pattern: 'PF_FORCE_COMPAT', present: true }, { touches: { variant: 'pavel-corrected' }, path: 'x' }] }, 'a source predicate, its path without the trailing slash');
  rejects(t, seriesOnly({ all: [{ source: { variant: 'base' }, path: '../etc', pattern: 'x' }, { touches: { variant: 'pavel-corrected' }, path: 'x' }] }), /observable\.all\[0\]\.path: is required: a file or directory of the tree/, 'a path outside the tree');
  rejects(t, seriesOnly({ all: [{ source: { variant: 'base', patch: 1 }, path: 'a', pattern: 'x' }, { touches: { variant: 'pavel-corrected' }, path: 'x' }] }), /source\.patch: not allowed here/, 'a patch number on a source ref');
  const ok = parseClaim(withObservable({ all: [{ same: [b, n32], value: 'sq_entries=(\\d+)' }, { case: c, status: 'FAIL' }] }), ctx);
  t.same((ok.observable as { all: unknown[] }).all[0], { same: [b, n32], value: 'sq_entries=(\\d+)' }, 'kept on the predicate');
});

t.test('the header fields are checked', async (t) => {
  rejects(t, withField('author', ''), /author: is required/, 'author');
  rejects(t, withField('messageId', 'not a message id'), /messageId: "not a message id" is not a Message-ID/, 'messageId');
  rejects(t, withField('date', 'last tuesday'), /date: "last tuesday" is not a date/, 'date');
  rejects(t, withField('id', 'has space'), /id: "has space" must be letters/, 'id');
  rejects(t, withField('quote', '> long'), /quote: unknown field/, 'unknown field');
  rejects(t, [], /\(file\): must hold one JSON object/, 'not an object');
  t.throws(() => parseClaimText('{', ctx), /claim patches\/p\/claims\/my-claim\.json: not valid JSON/);
  t.equal(claimMessageId('<a@b>'), 'a@b');
  t.equal(claimMessageId('a b@c'), '');
  t.equal(claimMessageId('https://lore.kernel.org/io-uring/a@b/'), 'a@b', 'a lore link, as everywhere else');
});

t.test('loadClaims reads every file of the profile, sorted, and refuses duplicate ids', async (t) => {
  const claims = await loadFixtureClaims();
  t.same(claims.map((c) => c.id), [
    'compat-differs-from-native32',
    'corrected-breaks-inline-readv',
    'corrected-sqpoll-only',
    'first-diff-refuses-every-compat-ring',
    'readv-untouched',
  ]);
  t.match(claims[2]!.file, /corrected-refuses-sqpoll-only\.json$/);
  t.equal(claims[3]!.messageId, 'first-diff-review.1@kseries.invalid');
  t.same(await loadClaims(fixtureProfile('/nonexistent/profile'), PROBES), [], 'no claims directory: no claims');

  const dir = mkdtempSync(join(tmpdir(), 'claims-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'claims'));
  writeFileSync(join(dir, 'claims', 'a.json'), JSON.stringify({ ...valid(), id: 'same' }));
  writeFileSync(join(dir, 'claims', 'b.json'), JSON.stringify({ ...valid(), id: 'same' }));
  await t.rejects(loadClaims(fixtureProfile(dir), PROBES), /b\.json: id: "same" is also the id of .*a\.json/);

  // The profile's unprivileged probes may be referred to as "<probe>_unpriv".
  rmSync(join(dir, 'claims', 'b.json'));
  const unpriv = {
    ...valid(),
    id: 'unpriv',
    variants: ['base'],
    abis: ['compat'],
    probes: ['io_uring_setup_unpriv'],
    observable: { case: ref('base', 'compat', 'io_uring_setup_unpriv', 'sqpoll_unprivileged'), status: 'PASS', diagnostic: 'ret=0' },
  };
  writeFileSync(join(dir, 'claims', 'c.json'), JSON.stringify(unpriv));
  await t.rejects(loadClaims(fixtureProfile(dir), PROBES), /c\.json: probes: unknown probe "io_uring_setup_unpriv"/);
  const loaded = await loadClaims({ ...fixtureProfile(dir), unprivileged: ['io_uring_setup'] }, PROBES);
  t.same(loaded.map((c) => c.id), ['same', 'unpriv']);

  t.same(selectClaims(claims, ['readv-untouched']).map((c) => c.id), ['readv-untouched']);
  t.equal(selectClaims(claims, []).length, 5);
  t.throws(() => selectClaims(claims, ['nope']), /no claim "nope" \(have: compat-differs-from-native32, /);
});

/** Declared cases for the fixture probes: io_uring_readv's names are built at run time. */
const CASES: ProbeCaseTable = {
  io_uring_setup: { names: ['setup_default', 'setup_sqpoll', 'setup_zero_entries', 'sqpoll_unprivileged'], complete: true, outsideTable: [] },
  io_uring_readv: { names: [], complete: false, why: 'names built at run time', outsideTable: [] },
};

t.test('case names are checked against the cases the probe declares', async (t) => {
  const cctx = { ...ctx, cases: CASES };
  const reject = (raw: unknown, re: RegExp, what: string) => {
    try {
      parseClaim(raw, cctx);
      t.fail(`${what}: accepted`);
    } catch (e) {
      t.equal((e as KseriesError).exitCode, 2, `${what}: exit 2`);
      const msg = (e as Error).message;
      t.notMatch(msg, /\n/, `${what}: one line`);
      t.match(msg, /^claim patches\/p\/claims\/my-claim\.json: /, `${what}: names the file`);
      t.match(msg, re, what);
    }
  };
  t.ok(parseClaim(valid(), cctx), 'known case names pass');
  const c = ref('pavel-corrected', 'compat', 'io_uring_setup', 'setup_sqpol');
  const n32 = ref('base', 'native32', 'io_uring_setup', 'setup_sqpoll');
  reject(
    withObservable({ all: [{ case: c, status: 'FAIL' }, { same: [n32, { ...n32, variant: 'pavel-corrected' }] }] }),
    /observable\.all\[0\]\.case\.case: probe io_uring_setup has no case "setup_sqpol" \(cases: setup_default, setup_sqpoll, setup_zero_entries, sqpoll_unprivileged\)$/,
    'a typo in a case predicate',
  );
  reject(
    withObservable({ all: [valid().observable, { differ: [n32, { ...n32, variant: 'pavel-corrected', case: 'sqpoll' }] }] }),
    /observable\.all\[1\]\.differ\[1\]\.case: probe io_uring_setup has no case "sqpoll"/,
    'in a differ ref',
  );
  // "<probe>_unpriv" is the same binary: the same cases.
  const unpriv = { ...valid(), variants: ['base'], abis: ['compat'], probes: ['io_uring_setup_unpriv'] };
  const probes = [...PROBES, 'io_uring_setup_unpriv'];
  const uctx = { ...cctx, probes };
  t.ok(parseClaim({ ...unpriv, observable: { case: ref('base', 'compat', 'io_uring_setup_unpriv', 'setup_sqpoll'), status: 'FAIL' } }, uctx), 'an _unpriv run has its probe\'s cases');
  t.throws(() => parseClaim({ ...unpriv, observable: { case: ref('base', 'compat', 'io_uring_setup_unpriv', 'nope'), status: 'FAIL' } }, uctx), /probe io_uring_setup_unpriv has no case "nope" \(cases: setup_default, /);
  // Not checked when the probe's names cannot be known, or no cases are given.
  const readv = withObservable({ case: ref('base', 'compat', 'io_uring_readv', 'compat_whatever'), status: 'PASS' }, { variants: ['base'], abis: ['compat'], probes: ['io_uring_readv'] });
  t.equal(parseClaim(readv, cctx).id, 'my-claim', 'a probe with names built at run time is not checked');
  const setupTypo = withObservable({ case: ref('base', 'compat', 'io_uring_setup', 'nope'), status: 'PASS' }, { variants: ['base'], abis: ['compat'] });
  t.equal(parseClaim(setupTypo, ctx).id, 'my-claim', 'without declared cases nothing is checked');
  t.equal(parseClaim(setupTypo, { ...cctx, cases: {} }).id, 'my-claim', 'nor for a probe without an entry');
  // The fixture claims use the real probes' case names.
  t.same((await readClaims(fixtureProfile(), PROBES, { cases: await loadProbeCases() })).invalid, [], 'the fixture claims name real cases');
});

t.test('readClaims keeps the good claims and lists each bad file with its error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'claims-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'claims'));
  const put = (f: string, o: unknown) => writeFileSync(join(dir, 'claims', f), typeof o === 'string' ? o : JSON.stringify(o));
  put('a-good.json', valid());
  put('b-typo.json', { ...valid(), id: 'typo', observable: { all: [{ case: ref('pavel-corrected', 'compat', 'io_uring_setup', 'setup_sqpol'), status: 'FAIL' }, (valid().observable as { all: unknown[] }).all[1]] } });
  put('c-broken.json', '{"author": ');
  put('d-dup.json', { ...valid(), id: 'a-good' });
  put('e-good.json', { ...valid(), claim: 'Another one.' });
  const loaded = await readClaims(fixtureProfile(dir), PROBES, { cases: CASES });
  t.same(loaded.claims.map((c) => c.id), ['a-good', 'e-good'], 'the good ones, in file order');
  t.same(loaded.invalid.map((x) => x.id), ['typo', 'c-broken', 'a-good'], "a bad file's own id if it has one, else its name");
  t.match(loaded.invalid[0]!, { file: join(dir, 'claims', 'b-typo.json'), error: /^claim .*b-typo\.json: observable\.all\[0\]\.case\.case: probe io_uring_setup has no case "setup_sqpol"/ });
  t.match(loaded.invalid[1]!.error, /c-broken\.json: not valid JSON/);
  t.match(loaded.invalid[2]!.error, /d-dup\.json: id: "a-good" is also the id of .*a-good\.json/);
  t.ok(loaded.invalid.every((x) => !x.error.includes('\n')), 'one line each');
  await t.rejects(loadClaims(fixtureProfile(dir), PROBES, { cases: CASES }), { message: /b-typo\.json: observable/, exitCode: 2 }, 'loadClaims: the first bad file is an error');
  t.same(selectLoaded(loaded, ['typo', 'e-good']), { claims: [loaded.claims[1]], invalid: [loaded.invalid[0]] }, '--only may name a bad file');
  t.throws(() => selectLoaded(loaded, ['nope']), /no claim "nope" \(have: a-good, e-good, typo, c-broken\)$/);
  t.same(selectLoaded(loaded, []), loaded);
});

t.test("kseries' own observation: author kseries, no Message-ID", async (t) => {
  const { messageId: _m, ...noMail } = valid();
  const own = parseClaim({ ...noMail, author: 'kseries' }, ctx);
  t.equal(own.author, 'kseries');
  t.notOk('messageId' in own, 'no Message-ID');
  t.ok(isOwnClaim(own));
  t.notOk(isOwnClaim(parseClaim(valid(), ctx)));
  rejects(t, withField('author', 'kseries'), /messageId: not allowed with "author": "kseries" \(kseries' own observation has no mail\)/, 'own with a borrowed Message-ID');
  rejects(t, noMail, /messageId: is required/, 'a reviewer\'s claim needs its Message-ID');
  rejects(t, withField('messageId', 'none'), /or "author": "kseries" for an own observation/, 'the hint');
});
