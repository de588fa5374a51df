// Errors of the command line itself (as opposed to errors of the work a command does).

/** The command line was malformed: unknown command or flag, missing value. Exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The folder a command writes (--out DIR) cannot be created or is not a folder. Exit code 1. */
export class OutDirError extends Error {
  override readonly name = "OutDirError";
  constructor(
    readonly dir: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`--out ${dir}: ${detail}; choose another folder with --out DIR`, options);
  }
}
