// Errors `sfprompt run` reports to the user (exit code 1, no stack trace).

/** The job file cannot be read, or an override does not fit it. */
export class JobFileError extends Error {
  override readonly name = "JobFileError";
  constructor(
    readonly path: string,
    /** The message without the file's path. */
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(`${path}: ${detail}`, options);
  }
}

/** The run directory cannot be used (e.g. --resume with nothing to resume, or a file in the way). */
export class RunDirError extends Error {
  override readonly name = "RunDirError";
  constructor(
    readonly dir: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`run directory ${dir}: ${detail}`, options);
  }
}

/** The job's processes failed: the server or every client exited, or the job reported failure. */
export class JobRunError extends Error {
  override readonly name = "JobRunError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The --nats server cannot be used: unreachable, or running without JetStream. */
export class NatsUrlError extends Error {
  override readonly name = "NatsUrlError";
  constructor(
    readonly url: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`--nats ${url}: ${detail}`, options);
  }
}
