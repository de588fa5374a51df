// Typed errors of the model splitter (`sfprompt prepare`): one class per failure kind.

/** The transformer blocks could not be found, or their boundary tensors are ambiguous. */
export class BlockDetectionError extends Error {
  override readonly name = "BlockDetectionError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A split option is out of range or inconsistent with the model (head blocks, prompt length, pooling, a
 * classifier --num-classes cannot replace), or the model itself stands in the way (option "model").
 */
export class SplitOptionsError extends Error {
  override readonly name = "SplitOptionsError";
  /** The SplitOptions key the error is about, or "model": what the user changes to avoid it. */
  readonly option: string;
  constructor(option: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.option = option;
  }
}

/** A cut tensor is unknown, or the graph cannot be cut there (the partitions would not chain). */
export class CutTensorError extends Error {
  override readonly name = "CutTensorError";
  readonly tensor: string;
  constructor(tensor: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.tensor = tensor;
  }
}

/** The tail (final norm, pooling, classifier) has a form the splitter cannot rewrite. */
export class TailRewriteError extends Error {
  override readonly name = "TailRewriteError";
  /** The SplitOptions key that would avoid it (cutTail: cut before the part it cannot rewrite), if any. */
  readonly option: string | undefined;
  constructor(message: string, options?: { cause?: unknown; option?: string }) {
    super(message, options);
    this.option = options?.option;
  }
}

/** A bundle's manifest.json is missing, unreadable or does not match the PartitionManifest schema. */
export class ManifestError extends Error {
  override readonly name = "ManifestError";
  /**
   * What is wrong with the manifest without the message's advice, for a caller that knows the fix
   * better (a cached or resumed bundle is removed, not prepared by hand); the message where it has none.
   */
  readonly problem: string;
  constructor(message: string, options?: { cause?: unknown; problem?: string }) {
    super(message, options);
    this.problem = options?.problem ?? message;
  }
}
