// What commands write: results.json in the run dir, the --json sink (FILE or '-'), and
// the JSON kept when Ctrl-C stops a command.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode, type ConsoleResult } from '../model/results.ts';
import { toResultsJson } from '../report/json.ts';

/**
 * Where a command's --json goes: '-' is stdout, and then the screen summary goes to stderr so
 * stdout holds the JSON alone; a FILE gets the JSON; undefined, nowhere.
 */
export interface JsonSink {
  /** Where the human-readable lines go. */
  screen: NodeJS.WriteStream;
  write(text: string): Promise<void>;
}

export function jsonSink(target: string | undefined): JsonSink {
  return {
    screen: target === '-' ? process.stderr : process.stdout,
    write: async (text) => {
      if (target === '-') process.stdout.write(text);
      else if (target) await writeFile(target, text);
    },
  };
}

/** JSON as every command writes it: 2-space indent, trailing newline. */
export const jsonText = (value: unknown): string => JSON.stringify(value, null, 2) + '\n';

export async function writeResults(
  runDir: string | undefined,
  jsonTarget: string | undefined,
  result: ConsoleResult,
  meta: Record<string, unknown>,
  extra: { exitCode?: number; matrix?: unknown } = {},
): Promise<void> {
  const { matrix, exitCode } = extra;
  const json = { ...toResultsJson(result, meta, exitCode === undefined ? {} : { exitCode }), ...(matrix ? { matrix } : {}) };
  const text = jsonText(json);
  if (runDir) await writeFile(join(runDir, 'results.json'), text);
  await jsonSink(jsonTarget).write(text);
}

/**
 * The JSON a command keeps (results.json, claims.json, bisect.json) when Ctrl-C, SIGINT or SIGTERM
 * stops it: status INTERRUPTED, exit 130, the signal and the stage it stopped in, and what it has so far.
 */
export async function writeInterrupted(file: string, signal: string, stage: string | undefined, sofar: Record<string, unknown>): Promise<void> {
  const at = stage ?? 'start';
  const json = { ...sofar, status: 'INTERRUPTED', exitCode: ExitCode.INTERRUPTED, error: `interrupted by ${signal} during ${at}`, interrupted: { signal, stage: at } };
  await writeFile(file, jsonText(json));
}
