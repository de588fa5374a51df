// Typed errors of the datasets layer: one class per failure kind, each naming the file, line or
// option that was wrong and what to do about it.

/** A data file exists but its bytes or text are not what the format promises. */
export class DatasetFormatError extends Error {
  override readonly name = "DatasetFormatError";
  constructor(
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
  }
}

/** A data file or folder is missing; the message says which package or option provides it. */
export class DatasetNotFoundError extends Error {
  override readonly name = "DatasetNotFoundError";
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${message}`, options);
  }
}

/** A label that is not in the dataset's class list, or a class list that does not fit the data. */
export class LabelError extends Error {
  override readonly name = "LabelError";
  constructor(
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
  }
}

/** Arguments that cannot describe a valid dataset, view, batch or partition. */
export class DatasetArgumentError extends Error {
  override readonly name = "DatasetArgumentError";
  constructor(
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${message}`, options);
  }
}

/** A partition that cannot be drawn, e.g. Dirichlet draws that keep leaving a client too small. */
export class PartitionError extends Error {
  override readonly name = "PartitionError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
