// What to build and boot to decide a set of claims: pure.
// The union of every ref of every claim's observable, so the caller builds
// each (variant, kernel arch) once and runs every needed probe once per boot.
import { predicateRefs, probeBinary, type Claim } from './spec.ts';

export { UNPRIV_SUFFIX } from './spec.ts';

export interface ProbeNeeds {
  /** ABIs in order of first mention. */
  abis: string[];
  /** Probe binaries to run, in order of first mention ("x_unpriv" counts as "x"). */
  probes: string[];
  /** Those of `probes` whose unprivileged run ("x_unpriv") some claim refers to. */
  unprivileged: string[];
}

export interface ClaimsPlan extends ProbeNeeds {
  /** Variants in order of first mention, 'base' first when present. */
  variants: string[];
  /** For each variant (same order): the ABIs and probes some claim needs from it. */
  perVariant: Record<string, ProbeNeeds>;
}

const addTo = (xs: string[], x: string) => {
  if (!xs.includes(x)) xs.push(x);
};

function need(n: ProbeNeeds, abi: string, probe: string): void {
  addTo(n.abis, abi);
  const binary = probeBinary(probe);
  addTo(n.probes, binary);
  if (binary !== probe) addTo(n.unprivileged, binary);
}

export function planClaims(claims: readonly Pick<Claim, 'observable'>[]): ClaimsPlan {
  const plan: ClaimsPlan = { variants: [], abis: [], probes: [], unprivileged: [], perVariant: {} };
  const per = new Map<string, ProbeNeeds>();
  for (const c of claims) {
    for (const r of predicateRefs(c.observable)) {
      addTo(plan.variants, r.variant);
      need(plan, r.abi, r.probe);
      let v = per.get(r.variant);
      if (!v) per.set(r.variant, (v = { abis: [], probes: [], unprivileged: [] }));
      need(v, r.abi, r.probe);
    }
  }
  if (plan.variants.indexOf('base') > 0) plan.variants = ['base', ...plan.variants.filter((v) => v !== 'base')];
  plan.perVariant = Object.fromEntries(plan.variants.map((v) => [v, per.get(v)!]));
  return plan;
}
