// Errors of the zip reader: the file is not a zip we can read, or an entry is missing or damaged.

/** A zip archive (a wheel) whose framing, an entry's method or an entry's content cannot be read. */
export class ZipFormatError extends Error {
  override readonly name = "ZipFormatError";
  constructor(
    readonly file: string,
    /** The entry at fault; undefined when the archive's framing is. */
    readonly entry: string | undefined,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${file}${entry === undefined ? "" : `: entry ${entry}`}: ${detail}`, options);
  }
}

/** A wheel could not be found on the package index, downloaded, or is not the pinned one. */
export class WheelDownloadError extends Error {
  override readonly name = "WheelDownloadError";
  constructor(
    /** The index page or file URL at fault. */
    readonly url: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${url}: ${detail}`, options);
  }
}

/** ONNX Runtime's CUDA provider cannot be installed for this onnxruntime-node (platform, version, files). */
export class OrtCudaProviderError extends Error {
  override readonly name = "OrtCudaProviderError";
}
