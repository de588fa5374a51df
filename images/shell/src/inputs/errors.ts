// Errors of resolving a process's inputs (model, partition bundle, data) from the run config.

/** The model, bundle or data the run config names cannot be had in this process. */
export class JobInputError extends Error {
  override readonly name = "JobInputError";
  constructor(
    /** The job's field (or flag / env var) at fault, e.g. "spec.model.source.persistentVolumeClaim". */
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${field}: ${message}`, options);
  }
}

/** The process setting of its cache folder, as the images read it (the CLI's is SFPROMPT_CACHE). */
export const CACHE_DIR_SETTING = "--cache-dir / SFPROMPT_CACHE_DIR";
