// What to build and boot to decide a set of claims, and the plan in words: pure.
// The union of every ref of every claim's observable, so the caller builds
// each (variant, kernel arch) once and runs every needed probe once per boot.
import { archForAbi } from '../model/arch.ts';
import { patchRefs, predicateRefs, probeBinary, type Claim } from './spec.ts';

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
  const needsOf = (variant: string): ProbeNeeds => {
    addTo(plan.variants, variant);
    let v = per.get(variant);
    if (!v) per.set(variant, (v = { abis: [], probes: [], unprivileged: [] }));
    return v;
  };
  for (const c of claims) {
    for (const r of predicateRefs(c.observable)) {
      need(needsOf(r.variant), r.abi, r.probe);
      need(plan, r.abi, r.probe);
    }
    // A series fact needs the variant applied; with no probe of it needed, nothing is built.
    for (const r of patchRefs(c.observable)) needsOf(r.variant);
  }
  if (plan.variants.indexOf('base') > 0) plan.variants = ['base', ...plan.variants.filter((v) => v !== 'base')];
  plan.perVariant = Object.fromEntries(plan.variants.map((v) => [v, per.get(v)!]));
  return plan;
}

/** "x86_64 (compat, native64), i386 (native32)": the kernels that run these ABIs, each with its ABIs. */
export function kernelsFor(abis: readonly string[]): string {
  const byArch = new Map<string, string[]>();
  for (const abi of abis) {
    const arch = archForAbi(abi)?.name ?? `? (${abi})`;
    byArch.set(arch, [...(byArch.get(arch) ?? []), abi]);
  }
  return [...byArch].map(([arch, xs]) => `${arch} (${xs.join(', ')})`).join(', ');
}

/** The plan in words, for `kseries claims --check`: one line for the whole, one per variant. */
export function formatClaimsPlan(plan: ClaimsPlan, claims: number): string[] {
  const needs = `${claims} claim${claims === 1 ? ' needs' : 's need'}`;
  if (plan.variants.length === 0) return [`plan: ${needs} nothing built or booted`];
  const kernels = plan.variants.reduce((n, v) => n + new Set(plan.perVariant[v]!.abis.map((abi) => archForAbi(abi)?.name ?? abi)).size, 0);
  const out = [
    `plan: ${needs} ${plan.variants.length} variant${plan.variants.length === 1 ? '' : 's'} (${plan.variants.join(', ')}), ${kernels} kernel build${kernels === 1 ? '' : 's'} and boot${kernels === 1 ? '' : 's'}`,
  ];
  for (const v of plan.variants) {
    const n = plan.perVariant[v]!;
    if (n.probes.length === 0) {
      out.push(`  ${v}: applied only (series facts); nothing built`);
      continue;
    }
    const unpriv = n.unprivileged.length > 0 ? `; also as uid 65534: ${n.unprivileged.join(', ')}` : '';
    out.push(`  ${v}: kernels ${kernelsFor(n.abis)}; probes ${n.probes.join(', ')}${unpriv}`);
  }
  return out;
}
