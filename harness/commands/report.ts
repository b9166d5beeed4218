// Writing results: results.json in the run dir, --json FILE or '-', and the screen summary.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode, type ConsoleResult } from '../model/results.ts';
import { toResultsJson } from '../report/json.ts';

export async function writeResults(
  runDir: string | undefined,
  jsonTarget: string | undefined,
  result: ConsoleResult,
  meta: Record<string, unknown>,
  extra: { exitCode?: number; matrix?: unknown } = {},
): Promise<void> {
  const { matrix, exitCode } = extra;
  const json = { ...toResultsJson(result, meta, exitCode === undefined ? {} : { exitCode }), ...(matrix ? { matrix } : {}) };
  const text = JSON.stringify(json, null, 2) + '\n';
  if (runDir) await writeFile(join(runDir, 'results.json'), text);
  if (jsonTarget === '-') process.stdout.write(text);
  else if (jsonTarget) await writeFile(jsonTarget, text);
}

/**
 * The JSON a command keeps (results.json, claims.json, bisect.json) when Ctrl-C, SIGINT or SIGTERM
 * stops it: status INTERRUPTED, exit 130, the signal and the stage it stopped in, and what it has so far.
 */
export async function writeInterrupted(file: string, signal: string, stage: string | undefined, sofar: Record<string, unknown>): Promise<void> {
  const at = stage ?? 'start';
  const json = { ...sofar, status: 'INTERRUPTED', exitCode: ExitCode.INTERRUPTED, error: `interrupted by ${signal} during ${at}`, interrupted: { signal, stage: at } };
  await writeFile(file, JSON.stringify(json, null, 2) + '\n');
}
