// The review itself: place every reply diff, observe the base, every revision
// and every placed reply diff in every group, bisect each change a revision
// makes to the patch that makes it, and compare the revisions. Observing goes
// through a ReviewObserver, so all of this runs on a toy repo with --run.
import type { PatchToApply } from '../apply/apply-series.ts';
import { middleStepBound, searchPrefixes, type StepObservation } from '../bisect/search.ts';
import { diffPath, parseUnifiedDiff } from '../apply/unified-diff.ts';
import { messageBody } from '../mail/mbox.ts';
import { postedDiffTitle } from '../mail/posted-diff.ts';
import { infraError } from '../util/errors.ts';
import type { ReviewMaterial } from './collect.ts';
import { describeChange } from './describe.ts';
import type { BuildBudget } from './observers.ts';
import type {
  CellChange,
  CellId,
  CellValue,
  Comparison,
  GroupObservation,
  Placement,
  ReplyResult,
  ReviewObserver,
  ReviewPlanSummary,
  ReviewReport,
  ReviewRevision,
  ReviewVariant,
  RevisionChange,
} from './review-types.ts';

export interface ReviewEngineOptions {
  material: ReviewMaterial;
  observer: ReviewObserver;
  /** Apply a variant without building it: undefined when it applies, else why not. */
  tryApply: (v: ReviewVariant) => Promise<undefined | { reason: string }>;
  /** --port: what to apply instead of a reply's posted diff, by its Message-ID. */
  ports: ReadonlyMap<string, { file: string; patch: PatchToApply }>;
  budget: BuildBudget;
  /** For the plan's time estimate. */
  estimate: ReviewEstimate;
  tree: string;
  tester: string;
  /** Told the plan before anything is observed. */
  onPlan?: (plan: ReviewPlanSummary) => void;
  log?: (msg: string) => void;
}

/** What one step costs on this machine: a build from an empty dir, one seeded from a neighbour, a boot. */
export interface ReviewEstimate {
  coldBuildMs: number;
  seededBuildMs: number;
  bootMs: number;
  checkoutMs: number;
}

const revName = (n: number) => `v${n}`;
export const replyName = (id: string) => `reply <${id}>`;

function cellValue(obs: GroupObservation, cell: CellId): CellValue {
  if (obs.kind !== 'observed') return { missing: obs.reason };
  const o: StepObservation | undefined = obs.cells.get(cell);
  if (!o) return { missing: 'not reported' };
  if (o.kind === 'value') return { value: o.value, ...(o.evidence !== undefined ? { evidence: o.evidence } : {}) };
  return { missing: o.reason };
}

/** The cells where `b` has another value than `a` (both known), and those that cannot be compared. */
export function differences(cells: readonly CellId[], a: ReadonlyMap<CellId, CellValue>, b: ReadonlyMap<CellId, CellValue>): { changes: CellChange[]; undecided: CellId[] } {
  const changes: CellChange[] = [];
  const undecided: CellId[] = [];
  for (const c of cells) {
    const x = a.get(c)?.value;
    const y = b.get(c)?.value;
    if (x === undefined || y === undefined) undecided.push(c);
    else if (x !== y) changes.push({ cell: c, from: x, to: y });
  }
  return { changes, undecided };
}

/** What one revision changes that its neighbour does not, cell by cell (oldest first). */
export function compareRevisions(
  cells: readonly CellId[],
  base: ReadonlyMap<CellId, CellValue>,
  revisions: readonly { revision: number; values: ReadonlyMap<CellId, CellValue>; firstPatch: (cell: CellId) => string | undefined }[],
): Comparison[] {
  const out: Comparison[] = [];
  const at = (r: (typeof revisions)[number], c: CellId) => {
    const p = r.firstPatch(c);
    return p ? ` at ${p}` : '';
  };
  for (let i = 0; i + 1 < revisions.length; i++) {
    const a = revisions[i]!;
    const b = revisions[i + 1]!;
    for (const c of cells) {
      const x = base.get(c)?.value;
      const va = a.values.get(c)?.value;
      const vb = b.values.get(c)?.value;
      if (x === undefined || va === undefined || vb === undefined) continue;
      const da = va !== x;
      const db = vb !== x;
      const A = revName(a.revision);
      const B = revName(b.revision);
      if (da && !db) out.push({ cell: c, from: a.revision, to: b.revision, text: `${A} changes ${c}${at(a, c)}: ${describeChange(x, va)}; ${B} no longer does` });
      else if (!da && db) out.push({ cell: c, from: a.revision, to: b.revision, text: `${B} changes ${c}${at(b, c)}: ${describeChange(x, vb)}; ${A} did not` });
      else if (da && db && va !== vb) out.push({ cell: c, from: a.revision, to: b.revision, text: `${A} and ${B} both change ${c}, differently: ${describeChange(x, va)} in ${A}, ${describeChange(x, vb)} in ${B}` });
    }
  }
  return out;
}

/**
 * The hunk an apply failure names ("fs/x.c hunk #2 failed", "... hunk #2 landed in ..."), as the
 * diff posted it; else the first hunk of its first file. The reason loses the patch's long title.
 */
export function refusal(patch: PatchToApply, reason: string): { reason: string; hunk?: string } {
  const files = parseUnifiedDiff(messageBody(patch.message.raw));
  const named = /(\S+) hunk #(\d+)/.exec(reason);
  const file = named ? files.find((f) => diffPath(f) === named[1]) : files[0];
  const h = file?.hunks.find((x) => (named ? x.number === Number(named[2]) : true));
  const short = reason.replace(/^patch \d+\/\d+ ".*" (does not apply|refused|changes nothing)/, (_, w: string) => (w === 'refused' ? 'refused' : `it ${w}`));
  if (!file || !h) return { reason: short };
  const head = `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@${h.headerFunction ? ` ${h.headerFunction}` : ''}`;
  return { reason: short, hunk: [`--- ${diffPath(file)}`, head, ...h.lines].join('\n') };
}

export async function runReview(o: ReviewEngineOptions): Promise<ReviewReport> {
  const t0 = Date.now();
  const { material: m, observer } = o;
  const log = o.log ?? (() => {});
  const cells = observer.cells.map((c) => c.cell);
  const groupOf = new Map(observer.cells.map((c) => [c.cell, c.group] as const));
  const complete = m.revisions.filter((r): r is ReviewRevision & { toApply: PatchToApply[] } => r.toApply !== undefined);
  const leftOut: string[] = [];
  const note = (s: string) => {
    if (!leftOut.includes(s)) leftOut.push(s);
  };
  for (const r of m.revisions) if (r.incomplete) note(`${revName(r.revision)} left out: ${r.incomplete}`);

  // 1. Place each reply diff: onto the full series it is under, else onto the base.
  const placed: { reply: (typeof m.replies)[number]; placement: Placement; variant?: ReviewVariant }[] = [];
  for (const r of m.replies) {
    const port = o.ports.get(r.messageId);
    const patch: PatchToApply = port?.patch ?? { index: 1, total: 1, title: postedDiffTitle(r.message), message: r.message };
    const rev = r.under ? complete.find((x) => x.revision === r.under!.revision) : undefined;
    const targets = [...(rev ? [{ onto: 'series' as const, revision: rev.revision, patches: rev.toApply }] : []), { onto: 'base' as const, patches: [] as PatchToApply[] }];
    const tried: Placement['tried'] = [];
    let placement: Placement | undefined;
    let variant: ReviewVariant | undefined;
    for (const t of targets) {
      const v = { name: replyName(r.messageId), patches: [...t.patches, patch] };
      const res = await o.tryApply(v);
      if (!res) {
        placement = { status: 'applied', onto: t.onto, ...(t.onto === 'series' ? { revision: t.revision } : {}), tried };
        variant = v;
        break;
      }
      const why = refusal(patch, res.reason);
      tried.push({ onto: t.onto === 'series' ? `${revName(t.revision)} (its full series)` : 'the base', reason: why.reason, ...(why.hunk ? { hunk: why.hunk } : {}) });
    }
    placement ??= { status: 'refused', tried, reason: `it applies neither onto ${tried.map((x) => x.onto).join(' nor onto ')}` };
    for (const t of tried) log(`${replyName(r.messageId)}: not onto ${t.onto}: ${t.reason}`);
    log(`${replyName(r.messageId)}: ${placement.status === 'applied' ? `applies onto ${placement.onto === 'series' ? `${revName(placement.revision!)}` : 'the base'}` : `refused: ${placement.reason}`}`);
    placed.push({ reply: r, placement, ...(variant ? { variant } : {}) });
  }

  // 2. The variants, in the order they are observed: the base, the revisions newest first, the reply diffs.
  const variants: ReviewVariant[] = [
    { name: 'base', patches: [] },
    ...[...complete].reverse().map((r) => ({ name: revName(r.revision), patches: r.toApply })),
    ...placed.flatMap((p) => (p.variant ? [p.variant] : [])),
  ];

  // 3. The plan, before anything is built. Per kernel, the first new build is cold when the base
  // is not cached; every later one starts from a neighbour's build dir.
  let builds = 0;
  let estimateMs = 0;
  let allowed = o.budget.max ?? Infinity;
  for (const g of observer.groups) {
    let seeded = false;
    for (const v of variants) {
      const needs = await observer.needsBuild(v, g);
      if (v.name === 'base' && !needs) seeded = true;
      if (!needs) continue;
      builds++;
      if (allowed-- > 0) estimateMs += seeded ? o.estimate.seededBuildMs : o.estimate.coldBuildMs;
      seeded = true;
    }
  }
  const pairs = variants.length * observer.groups.length;
  const kernel = !observer.groups.includes('run');
  const plan: ReviewPlanSummary = {
    variants: variants.map((v) => v.name),
    groups: [...observer.groups],
    builds,
    cached: kernel ? pairs - builds : 0,
    boots: kernel ? pairs : 0,
    ...(o.budget.max !== undefined ? { maxBuilds: o.budget.max } : {}),
    estimateMs: estimateMs + pairs * (kernel ? o.estimate.bootMs : o.estimate.checkoutMs),
    estimate: o.estimate,
    bisectStepsPerChange: Object.fromEntries(complete.map((r) => [r.revision, middleStepBound(r.toApply.length)])),
  };
  o.onPlan?.(plan);

  // 4. Observe every variant in every group.
  const values = new Map<string, Map<CellId, CellValue>>();
  const observed = new Map<string, Map<string, GroupObservation>>();
  let observations = 0;
  let boots = 0;
  const observe = async (v: ReviewVariant, g: string, dir: string): Promise<GroupObservation> => {
    log(`${v.name}: ${g === 'run' ? 'running the --run commands' : `${g} kernel`}`);
    const obs = await observer.observe(v, g, dir);
    observations++;
    if (obs.kind === 'observed' && kernel) boots++;
    if (obs.kind === 'left-out') note(obs.reason);
    if (obs.kind === 'skip') note(`${v.name}${kernel ? ` (${g})` : ''} could not be observed: ${obs.reason}`);
    return obs;
  };
  for (const v of variants) {
    const vals = new Map<CellId, CellValue>();
    const byGroup = new Map<string, GroupObservation>();
    for (const g of observer.groups) {
      const obs = await observe(v, g, dirFor(v.name));
      byGroup.set(g, obs);
      for (const c of observer.cells) if (c.group === g) vals.set(c.cell, cellValue(obs, c.cell));
    }
    values.set(v.name, vals);
    observed.set(v.name, byGroup);
  }
  const base = values.get('base')!;

  // 5. Bisect every change of every revision (newest first) over its prefixes; prefix
  // observations are shared by every cell of a revision, so cells that change together cost one bisect.
  const changesOf = new Map<number, RevisionChange[]>();
  for (const r of [...complete].reverse()) {
    const n = r.toApply.length;
    const full = values.get(revName(r.revision))!;
    const memo = new Map<string, Promise<GroupObservation>>();
    for (const g of observer.groups) {
      memo.set(`0|${g}`, Promise.resolve(observed.get('base')!.get(g)!));
      memo.set(`${n}|${g}`, Promise.resolve(observed.get(revName(r.revision))!.get(g)!));
    }
    const at = (k: number, g: string) => {
      const key = `${k}|${g}`;
      if (!memo.has(key)) memo.set(key, observe({ name: `${revName(r.revision)}/prefix-${k}`, patches: r.toApply.slice(0, k) }, g, `${revName(r.revision)}-prefix-${k}`));
      return memo.get(key)!;
    };
    const { changes } = differences(cells, base, full);
    const groups = new Map<string, RevisionChange>();
    for (const ch of changes) {
      const g = groupOf.get(ch.cell)!;
      const res = await searchPrefixes({
        patches: n,
        tester: {
          observe: async (k) => {
            const obs = await at(k, g);
            if (obs.kind !== 'observed') return { kind: 'skip', reason: obs.reason };
            return obs.cells.get(ch.cell) ?? { kind: 'skip', reason: 'not reported' };
          },
        },
      });
      if (res.status === 'infra') throw infraError(`bisecting ${revName(r.revision)} for ${ch.cell} stopped at prefix ${res.infraAt}: ${res.reason ?? ''}`);
      const key = res.status === 'found' ? `found:${res.firstBad}` : res.status === 'ambiguous' ? `ambiguous:${(res.candidates ?? []).join(',')}` : `undecided:${res.reason ?? ''}`;
      let change = groups.get(key);
      if (!change) {
        const ref = (k: number) => r.patches[k - 1]!;
        change = {
          revision: r.revision,
          status: res.status === 'found' ? 'found' : res.status === 'ambiguous' ? 'ambiguous' : 'undecided',
          cells: [],
          ...(res.status === 'found' ? { patch: ref(res.firstBad!) } : {}),
          ...(res.status === 'ambiguous' ? { candidates: (res.candidates ?? []).map(ref) } : {}),
          base: { evidence: {} },
          ...(res.lastGood ? { lastGood: { prefix: res.lastGood.k, evidence: {} } } : {}),
          ...(res.firstBadStep ? { firstBad: { prefix: res.firstBadStep.k, evidence: {} } } : {}),
          prefixes: [],
          ...(res.status !== 'found' && res.reason ? { reason: res.reason } : {}),
        };
        groups.set(key, change);
      }
      change.cells.push(ch);
      for (const s of res.steps) if (!change.prefixes.includes(s.k)) change.prefixes.push(s.k);
      change.base.evidence[ch.cell] = base.get(ch.cell)?.evidence;
      if (res.lastGood && change.lastGood) change.lastGood.evidence[ch.cell] = res.lastGood.evidence;
      if (res.firstBadStep && change.firstBad) change.firstBad.evidence[ch.cell] = res.firstBadStep.evidence;
      if (res.status !== 'found' && res.reason?.includes('left out')) note(`${revName(r.revision)}: ${ch.cell} not bisected to one patch: ${res.reason}`);
    }
    changesOf.set(r.revision, [...groups.values()].sort((a, b) => (a.patch?.index ?? 1e9) - (b.patch?.index ?? 1e9)));
  }

  // 6. What each reply diff changes against what it was placed onto.
  const replies: ReplyResult[] = placed.map((p) => {
    const onto = p.placement.onto === 'series' ? values.get(revName(p.placement.revision!))! : base;
    const mine = p.variant ? values.get(p.variant.name)! : undefined;
    const d = mine ? differences(cells, onto, mine) : { changes: [], undecided: [] };
    const port = o.ports.get(p.reply.messageId);
    return {
      messageId: p.reply.messageId,
      from: p.reply.from,
      subject: p.reply.subject,
      ...(p.reply.under ? { under: p.reply.under } : {}),
      placement: p.placement,
      ...(port ? { port: port.file } : {}),
      changes: d.changes,
      undecided: d.undecided,
    };
  });

  // 7. Revisions against each other.
  const comparisons = compareRevisions(
    cells,
    base,
    complete.map((r) => ({
      revision: r.revision,
      values: values.get(revName(r.revision))!,
      firstPatch: (c) => {
        const ch = changesOf.get(r.revision)?.find((x) => x.cells.some((y) => y.cell === c));
        return ch?.patch ? `${ch.patch.index}/${ch.patch.total}` : undefined;
      },
    })),
  );

  return {
    messageId: m.messageId,
    title: m.title,
    tree: o.tree,
    tester: o.tester,
    cells,
    table: [
      { variant: 'base', values: Object.fromEntries(base) },
      ...complete.map((r) => ({ variant: revName(r.revision), values: Object.fromEntries(values.get(revName(r.revision))!) })),
      ...placed.flatMap((p) => (p.variant ? [{ variant: p.variant.name, values: Object.fromEntries(values.get(p.variant.name)!) }] : [])),
    ],
    revisions: m.revisions.map((r) => ({ revision: r.revision, rootId: r.rootId, patches: r.patches, ...(r.incomplete ? { incomplete: r.incomplete } : {}), changes: changesOf.get(r.revision) ?? [] })),
    replies,
    comparisons,
    leftOut,
    usage: { observations, newBuilds: o.budget.used, cachedBuilds: o.budget.cached, boots, ms: Date.now() - t0 },
    plan,
  };
}

/** The run-directory name of a variant. */
export const dirFor = (name: string) => name.replace(/[^A-Za-z0-9._@-]+/g, '-').replace(/^-+|-+$/g, '');
