// Typed errors of the numeric training building blocks: one class per failure kind, so callers
// branch on `instanceof`, never on messages.

/** A tensor's data length or shape disagrees with what the operation needs. */
export class TensorShapeError extends Error {
  override readonly name = "TensorShapeError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Two parameter sets do not hold the same names and shapes (in the same order). */
export class ParamSetMismatchError extends Error {
  override readonly name = "ParamSetMismatchError";
  constructor(
    message: string,
    readonly param: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Bytes that do not decode as a parameter set (wrong magic, version, truncated, checksum). */
export class ParamSetCodecError extends Error {
  override readonly name = "ParamSetCodecError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A numeric argument outside its valid range (learning rate, γ, label index, weight...). */
export class TrainingArgumentError extends Error {
  override readonly name = "TrainingArgumentError";
  constructor(
    message: string,
    readonly field: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** An aggregation input that cannot be averaged: names the offending client and parameter. */
export class AggregationError extends Error {
  override readonly name = "AggregationError";
  constructor(
    message: string,
    readonly clientId: string,
    readonly param: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The FLOPs table has no rule for an operator type. */
export class UnknownOpFlopsError extends Error {
  override readonly name = "UnknownOpFlopsError";
  constructor(
    message: string,
    readonly opType: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
