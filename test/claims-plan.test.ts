import t from 'tap';
import { formatClaimsPlan, kernelsFor, planClaims } from '../harness/claims/claim-plan.ts';
import { claimProbeNames, parseClaim } from '../harness/claims/spec.ts';
import { PROBES, VARIANTS, loadFixtureClaims, mkClaim, ref } from './fixtures/claims/helpers.ts';

t.test('the plan is the union of every ref: base first, then first mention', async (t) => {
  const claims = await loadFixtureClaims();
  const plan = planClaims(claims);
  t.same(plan.variants, ['base', 'pavel-corrected', 'pavel-first'], 'pavel-corrected is mentioned first, base is moved to the front');
  t.same(plan.abis, ['compat', 'native32', 'native64']);
  t.same(plan.probes, ['io_uring_setup', 'io_uring_readv', 'readv_writev']);
  t.same(plan.perVariant, {
    base: { abis: ['compat'], probes: ['io_uring_setup', 'readv_writev'], unprivileged: [] },
    'pavel-corrected': { abis: ['compat', 'native32'], probes: ['io_uring_setup', 'io_uring_readv', 'readv_writev'], unprivileged: [] },
    'pavel-first': { abis: ['compat', 'native64'], probes: ['io_uring_setup', 'readv_writev'], unprivileged: [] },
  });
  t.same(Object.keys(plan.perVariant), plan.variants, 'perVariant in the same order');
});

t.test('each variant only gets what some claim asks of it', async (t) => {
  const a = mkClaim({ probe: ref('pavel-first', 'native64', 'readv_writev'), status: 'PASS' });
  const b = mkClaim({
    any: [
      { probe: ref('demo', 'compat', 'io_uring_setup'), status: 'FAIL' },
      { not: { case: ref('pavel-first', 'compat', 'io_uring_setup', 'setup_default'), status: 'PASS' } },
    ],
  });
  const plan = planClaims([a, b]);
  t.same(plan.variants, ['pavel-first', 'demo'], 'no base: first-mention order kept');
  t.same(plan.perVariant['demo'], { abis: ['compat'], probes: ['io_uring_setup'], unprivileged: [] });
  t.same(plan.perVariant['pavel-first'], { abis: ['native64', 'compat'], probes: ['readv_writev', 'io_uring_setup'], unprivileged: [] });
  t.same(plan.abis, ['native64', 'compat']);
  t.same(planClaims([b, a]).variants, ['demo', 'pavel-first'], 'order follows the claims given');
});

t.test('duplicates collapse and nothing asked means nothing to run', async (t) => {
  const c = mkClaim({
    all: [
      { same: [ref('base', 'compat', 'io_uring_setup'), ref('base', 'native32', 'io_uring_setup')] },
      { differ: [ref('base', 'compat', 'io_uring_setup'), ref('base', 'native32', 'io_uring_setup')] },
    ],
  });
  const plan = planClaims([c, c]);
  t.same(plan, {
    variants: ['base'],
    abis: ['compat', 'native32'],
    probes: ['io_uring_setup'],
    unprivileged: [],
    perVariant: { base: { abis: ['compat', 'native32'], probes: ['io_uring_setup'], unprivileged: [] } },
  });
  t.same(planClaims([]), { variants: [], abis: [], probes: [], unprivileged: [], perVariant: {} });
});

t.test('an unprivileged run ("<probe>_unpriv") needs the probe binary run twice', async (t) => {
  const probes = claimProbeNames(PROBES, ['io_uring_setup']);
  t.same(probes.slice(-1), ['io_uring_setup_unpriv']);
  const raw = {
    author: 'Reviewer',
    messageId: 'u.1@kseries.invalid',
    date: '2020-09-19',
    claim: 'Unprivileged SQPOLL is refused before 5.11 and allowed after.',
    variants: ['base', 'pavel-first'],
    abis: ['compat'],
    probes: ['io_uring_setup_unpriv', 'readv_writev'],
    observable: {
      all: [
        { case: ref('pavel-first', 'compat', 'io_uring_setup_unpriv', 'sqpoll_unprivileged'), status: 'PASS', diagnostic: 'EPERM' },
        { probe: ref('base', 'compat', 'readv_writev'), status: 'PASS' },
      ],
    },
  };
  const c = parseClaim(raw, { file: 'u.json', variants: VARIANTS, probes });
  const plan = planClaims([c]);
  t.same(plan.probes, ['io_uring_setup', 'readv_writev']);
  t.same(plan.unprivileged, ['io_uring_setup']);
  t.same(plan.perVariant['pavel-first'], { abis: ['compat'], probes: ['io_uring_setup'], unprivileged: ['io_uring_setup'] });
  t.same(plan.perVariant['base'], { abis: ['compat'], probes: ['readv_writev'], unprivileged: [] });
  t.throws(() => parseClaim(raw, { file: 'u.json', variants: VARIANTS, probes: PROBES }), /probes: unknown probe "io_uring_setup_unpriv"/, 'not without the profile asking for it');
});

t.test('the plan in words: variants, kernels with their ABIs, probes', async (t) => {
  t.equal(kernelsFor(['compat', 'native32', 'native64']), 'x86_64 (compat, native64), i386 (native32)');
  const claims = await loadFixtureClaims();
  t.same(formatClaimsPlan(planClaims(claims), claims.length), [
    'plan: 5 claims need 3 variants (base, pavel-corrected, pavel-first), 4 kernel builds and boots',
    '  base: kernels x86_64 (compat); probes io_uring_setup, readv_writev',
    '  pavel-corrected: kernels x86_64 (compat), i386 (native32); probes io_uring_setup, io_uring_readv, readv_writev',
    '  pavel-first: kernels x86_64 (compat, native64); probes io_uring_setup, readv_writev',
  ]);
  const c = parseClaim(
    {
      author: 'Reviewer',
      messageId: 'u.2@kseries.invalid',
      date: '2020-09-19',
      claim: 'SQPOLL is refused to nobody.',
      variants: ['base'],
      abis: ['compat'],
      probes: ['io_uring_setup_unpriv'],
      observable: { case: ref('base', 'compat', 'io_uring_setup_unpriv', 'setup_sqpoll'), status: 'FAIL' },
    },
    { file: 'u.json', variants: VARIANTS, probes: claimProbeNames(PROBES, ['io_uring_setup']) },
  );
  t.same(formatClaimsPlan(planClaims([c]), 1), [
    'plan: 1 claim needs 1 variant (base), 1 kernel build and boot',
    '  base: kernels x86_64 (compat); probes io_uring_setup; also as uid 65534: io_uring_setup',
  ]);
  t.same(formatClaimsPlan(planClaims([]), 0), ['plan: 0 claims need nothing built or booted']);
});

t.test('a variant asked only for series facts is applied, not built', async (t) => {
  const c = mkClaim({ all: [{ touches: { variant: 'demo', patch: 1 }, path: 'io_uring' }, { probe: ref('base', 'compat', 'io_uring_setup'), status: 'PASS' }] }, { variants: ['demo', 'base'] });
  const plan = planClaims([c]);
  t.same(plan.variants, ['base', 'demo']);
  t.same(plan.perVariant['demo'], { abis: [], probes: [], unprivileged: [] });
  const lines = formatClaimsPlan(plan, 1);
  t.match(lines[0]!, /1 claim needs 2 variants \(base, demo\), 1 kernel build and boot$/);
  t.ok(lines.includes('  demo: applied only (series facts); nothing built'));
});
