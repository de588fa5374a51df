// Typed errors of the text layer (vocabularies, tokenizers): one class per failure kind, each naming
// the file or argument that was wrong and what to do about it.

/** The vocabulary file is missing or unreadable. */
export class VocabNotFoundError extends Error {
  override readonly name = "VocabNotFoundError";
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${message}`, options);
  }
}

/** The vocabulary has no entries, or its bytes are not a one-token-a-line text file. */
export class VocabFormatError extends Error {
  override readonly name = "VocabFormatError";
  constructor(
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
  }
}

/** A special token the tokenizer needs ([CLS], [SEP], [PAD], [UNK]) is not in the vocabulary. */
export class VocabMissingTokenError extends Error {
  override readonly name = "VocabMissingTokenError";
  constructor(
    readonly source: string,
    readonly token: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${source}: has no "${token}" line; a BERT WordPiece vocabulary needs [CLS], [SEP], [PAD] and [UNK] (use the model's own vocab.txt)`,
      options,
    );
  }
}

/** An argument to a tokenizer call that cannot be honoured, e.g. a maxLength below 2. */
export class TokenizerArgumentError extends Error {
  override readonly name = "TokenizerArgumentError";
  constructor(
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${message}`, options);
  }
}

/** Whether `cause` is an error of reading a vocabulary file (missing, malformed, lacking a token). */
export function isVocabError(
  cause: unknown,
): cause is VocabNotFoundError | VocabFormatError | VocabMissingTokenError {
  return (
    cause instanceof VocabNotFoundError ||
    cause instanceof VocabFormatError ||
    cause instanceof VocabMissingTokenError
  );
}
