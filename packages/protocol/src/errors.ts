// Typed errors of the data plane: one class per failure kind, each with a stable `code` that travels
// in error replies, so a requester rebuilds the same class from the wire.

/** Which frame an error is about; every field that was readable is filled. */
export interface FrameRef {
  job?: string;
  client?: string;
  round?: number;
  step?: number;
  kind?: string;
}

export interface DataPlaneErrorOptions {
  frame?: FrameRef;
  field?: string;
  cause?: unknown;
  /** True when the error was reported by the peer in an error reply. */
  remote?: boolean;
}

/** Codes that may travel in an error reply. */
export const REMOTE_ERROR_CODES = [
  "bad-header",
  "bad-shape",
  "bad-dtype",
  "bad-size",
  "bad-checksum",
  "non-finite",
  "unknown-job",
  "unknown-client",
  "busy",
  "incomplete",
  "handler-failed",
] as const;
export type RemoteErrorCode = (typeof REMOTE_ERROR_CODES)[number];
export type DataPlaneErrorCode =
  RemoteErrorCode | "timeout" | "no-responders" | "codec-range" | "bad-name" | "bad-event" | "bad-state";

/** Renders a FrameRef as `job=a client=b round=1 step=2 kind=activation`. */
export function describeFrame(frame: FrameRef | undefined): string {
  if (frame === undefined) return "frame (unreadable header)";
  const parts = (["job", "client", "round", "step", "kind"] as const)
    .filter((k) => frame[k] !== undefined)
    .map((k) => `${k}=${String(frame[k])}`);
  return parts.length === 0 ? "frame (unreadable header)" : `frame ${parts.join(" ")}`;
}

/** Base class: every data-plane error has a code, and names its frame and field when known. */
export abstract class DataPlaneError extends Error {
  abstract readonly code: DataPlaneErrorCode;
  /** True for failures a retry can fix (busy responder, timeout, lost chunk). */
  readonly retryable: boolean = false;
  readonly frame: FrameRef | undefined;
  readonly field: string | undefined;
  readonly remote: boolean;
  /** The message without the frame/field prefix, as sent in error replies. */
  readonly detail: string;

  constructor(detail: string, options: DataPlaneErrorOptions = {}) {
    const where = options.frame === undefined ? "" : `${describeFrame(options.frame)}: `;
    const field = options.field === undefined ? "" : `field ${options.field}: `;
    const remote = options.remote === true ? " (reported by the peer)" : "";
    super(`${where}${field}${detail}${remote}`, { cause: options.cause });
    this.name = new.target.name;
    this.frame = options.frame;
    this.field = options.field;
    this.remote = options.remote === true;
    this.detail = detail;
  }
}

/** The header is not a valid frame header (magic, version, truncation, schema). */
export class FrameHeaderError extends DataPlaneError {
  readonly code = "bad-header";
}
/** A tensor's shape differs from what the receiver expects. */
export class FrameShapeError extends DataPlaneError {
  readonly code = "bad-shape";
}
/** A tensor's dtype or codec differs from what the receiver expects, or they do not fit together. */
export class FrameDtypeError extends DataPlaneError {
  readonly code = "bad-dtype";
}
/** Byte lengths disagree with the declared dtype, shape, codec or payload length. */
export class FrameSizeError extends DataPlaneError {
  readonly code = "bad-size";
}
/**
 * A frame's meta is larger than its header can hold (metaLength is a u16: 65535 bytes of JSON).
 * Raised on encoding, before anything is sent; `sizes` lists each meta key's bytes, largest first.
 */
export class FrameMetaTooLargeError extends FrameSizeError {
  constructor(
    detail: string,
    options: DataPlaneErrorOptions & { bytes?: number; limit?: number; sizes?: readonly MetaKeySize[] } = {},
  ) {
    super(detail, options);
    this.bytes = options.bytes ?? 0;
    this.limit = options.limit ?? 0;
    this.sizes = options.sizes ?? [];
  }
  readonly bytes: number;
  readonly limit: number;
  readonly sizes: readonly MetaKeySize[];
}
/** One meta entry's share of a header: its key and the bytes `"key":value,` takes in the JSON. */
export interface MetaKeySize {
  readonly key: string;
  readonly bytes: number;
}
/** The payload's CRC32 differs from the header's checksum. */
export class FrameChecksumError extends DataPlaneError {
  readonly code = "bad-checksum";
}
/** A float tensor holds NaN or ±Infinity. */
export class NonFiniteTensorError extends DataPlaneError {
  readonly code = "non-finite";
}
/** The frame names a job this process does not serve. */
export class UnknownJobError extends DataPlaneError {
  readonly code = "unknown-job";
}
/** The frame names a client that is not part of the job. */
export class UnknownClientError extends DataPlaneError {
  readonly code = "unknown-client";
}
/** The responder has too many transfers in flight; retry later. */
export class ResponderBusyError extends DataPlaneError {
  readonly code = "busy";
  override readonly retryable = true;
}
/** A chunked transfer did not complete (missing chunk, reassembly timeout); retry sends it again. */
export class IncompleteTransferError extends DataPlaneError {
  readonly code = "incomplete";
  override readonly retryable = true;
}
/** The responder's handler failed on a valid frame. */
export class HandlerFailedError extends DataPlaneError {
  readonly code = "handler-failed";
}
/** No reply within the timeout after all retries. */
export class RequestTimeoutError extends DataPlaneError {
  readonly code = "timeout";
  override readonly retryable = true;
}
/**
 * Nobody listens on the subject: its server is not up yet, is gone, or its job ended (NATS cannot
 * tell these apart); a retry may reach a server that is starting.
 */
export class NoRespondersError extends DataPlaneError {
  readonly code = "no-responders";
  override readonly retryable = true;
}
/** A value cannot be represented in the chosen codec (e.g. |x| > 65504 in f16). */
export class CodecRangeError extends DataPlaneError {
  readonly code = "codec-range";
}
/** A job or client name cannot be used in subjects, streams or buckets. */
export class InvalidNameError extends DataPlaneError {
  readonly code = "bad-name";
}
/** A progress event does not match its schema. */
export class EventSchemaError extends DataPlaneError {
  readonly code = "bad-event";
}

type RemoteErrorClass = new (detail: string, options?: DataPlaneErrorOptions) => DataPlaneError;

const REMOTE_CLASSES: Record<RemoteErrorCode, RemoteErrorClass> = {
  "bad-header": FrameHeaderError,
  "bad-shape": FrameShapeError,
  "bad-dtype": FrameDtypeError,
  "bad-size": FrameSizeError,
  "bad-checksum": FrameChecksumError,
  "non-finite": NonFiniteTensorError,
  "unknown-job": UnknownJobError,
  "unknown-client": UnknownClientError,
  busy: ResponderBusyError,
  incomplete: IncompleteTransferError,
  "handler-failed": HandlerFailedError,
};

/** Rebuilds the typed error that a peer reported in an error reply. */
export function errorFromReply(
  code: RemoteErrorCode,
  detail: string,
  options: Omit<DataPlaneErrorOptions, "remote"> = {},
): DataPlaneError {
  return new REMOTE_CLASSES[code](detail, { ...options, remote: true });
}

/** True when `code` can travel in an error reply. */
export function isRemoteErrorCode(code: string): code is RemoteErrorCode {
  return (REMOTE_ERROR_CODES as readonly string[]).includes(code);
}
