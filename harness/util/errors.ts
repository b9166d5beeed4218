// Errors that end a run with a clear one-line message and a documented exit code.
import { ExitCode, type ExitCodeValue } from '../model/results.ts';

export class KseriesError extends Error {
  constructor(message: string, readonly exitCode: ExitCodeValue, readonly detail?: string) {
    super(message);
    this.name = 'KseriesError';
  }
}

/** Bad input or usage: exit 2. */
export const usageError = (msg: string, detail?: string) => new KseriesError(msg, ExitCode.USAGE, detail);
/** The machine or toolchain failed us (build failure, qemu missing, no KVM): exit 3. */
export const infraError = (msg: string, detail?: string) => new KseriesError(msg, ExitCode.INFRA, detail);
