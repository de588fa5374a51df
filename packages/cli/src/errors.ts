// Errors of the command line itself (as opposed to errors of the work a command does).

/** The command line was malformed: unknown command or flag, missing value. Exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The folder a command writes to (--out, or the folder of its --out file) cannot be made. Exit code 1. */
export class OutDirError extends Error {
  override readonly name = "OutDirError";
  constructor(
    readonly dir: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`--out ${dir}: ${detail}; give another --out`, options);
  }
}

/** The engine could not build the gradient graphs of --model (sfprompt prepare, grad), told in the flags' words. */
export class GradientBuildError extends Error {
  override readonly name = "GradientBuildError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
