// Errors of the command line itself (as opposed to errors of the work a command does).

/** The command line was malformed: unknown command or flag, missing value. Exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
