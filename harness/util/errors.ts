// Errors that end a run with a clear one-line message and a documented exit code.
import { ExitCode, type ExitCodeValue } from '../model/results.ts';

export class KseriesError extends Error {
  /** 'build': the kernel did not compile (bisection skips such a step, as git bisect's exit 125). */
  kind?: 'build';
  constructor(message: string, readonly exitCode: ExitCodeValue, readonly detail?: string) {
    super(message);
    this.name = 'KseriesError';
  }
}

/** Bad input or usage: exit 2. */
export const usageError = (msg: string, detail?: string) => new KseriesError(msg, ExitCode.USAGE, detail);
/** The machine or toolchain failed us (build failure, qemu missing, no KVM): exit 3. */
export const infraError = (msg: string, detail?: string) => new KseriesError(msg, ExitCode.INFRA, detail);

/** The kernel failed to compile: exit 3, but a skip to bisection rather than a verdict. */
export function buildFailure(msg: string, detail?: string): KseriesError {
  const e = new KseriesError(msg, ExitCode.INFRA, detail);
  e.kind = 'build';
  return e;
}
