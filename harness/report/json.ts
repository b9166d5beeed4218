// results.json: the machine-readable record of one run. Versioned by
// `schema` so later readers (bisect, claim verdicts) can refuse shapes they
// do not understand.

import type { ConsoleResult, Finding, ProbeResult, Status } from '../model/results.ts';
import { exitCodeFor } from '../console/parse-console.ts';
import { DOCUMENTS } from './documents.ts';

export const RESULTS_SCHEMA = DOCUMENTS.results.schema;

export interface ResultsJson<Meta extends object = Record<string, unknown>> {
  kind: typeof DOCUMENTS.results.kind;
  schema: typeof RESULTS_SCHEMA;
  /** Run metadata as the caller collected it (kernel tree, arch, stages, QEMU exit, …). */
  run: Meta;
  status: Status;
  exitCode: number;
  probes: ProbeResult[];
  findings: Finding[];
}

/**
 * Build the results JSON object. `exitCode` defaults to exitCodeFor(result);
 * pass `override` when the caller decided otherwise (e.g. INFRA after a boot
 * that produced no console).
 */
export function toResultsJson<Meta extends object>(
  result: ConsoleResult,
  meta: Meta,
  override: { status?: Status; exitCode?: number } = {},
): ResultsJson<Meta> {
  return {
    kind: DOCUMENTS.results.kind,
    schema: RESULTS_SCHEMA,
    run: meta,
    status: override.status ?? result.status,
    exitCode: override.exitCode ?? exitCodeFor(result),
    probes: result.probes,
    findings: result.findings,
  };
}

/** The JSON text as written to results.json (2-space indent, trailing newline). */
export function serializeResults<Meta extends object>(
  result: ConsoleResult,
  meta: Meta,
  override: { status?: Status; exitCode?: number } = {},
): string {
  return JSON.stringify(toResultsJson(result, meta, override), null, 2) + '\n';
}
