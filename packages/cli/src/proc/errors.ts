// Errors of the local server/client processes that `sfprompt run` starts.

/** The job's data cannot be loaded by a local process. */
export class JobDataError extends Error {
  override readonly name = "JobDataError";
  constructor(
    readonly field: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${field}: ${detail}`, options);
  }
}
