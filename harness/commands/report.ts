// Writing results: results.json in the run dir, --json FILE or '-', and the screen summary.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConsoleResult } from '../model/results.ts';
import { toResultsJson } from '../report/json.ts';

export async function writeResults(
  runDir: string | undefined,
  jsonTarget: string | undefined,
  result: ConsoleResult,
  meta: Record<string, unknown>,
): Promise<void> {
  const text = JSON.stringify(toResultsJson(result, meta), null, 2) + '\n';
  if (runDir) await writeFile(join(runDir, 'results.json'), text);
  if (jsonTarget === '-') process.stdout.write(text);
  else if (jsonTarget) await writeFile(jsonTarget, text);
}
