// Checks an IDX file (plain or gzip) against its own header without reading its elements: what a
// whole read would refuse for its length (cut short, bytes past the end, not IDX) found from the
// first block and the gzip trailer, for the checks before a run that would read the file minutes in.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { constants, gunzipSync } from "node:zlib";
import { DatasetFormatError } from "./errors.js";
import { type IdxDtype, parseIdxHeader } from "./idx.js";

/** What an IDX file's header declares: element type, dimensions and the data's bytes, header included. */
export interface IdxFileHeader {
  readonly dtype: IdxDtype;
  readonly dims: readonly number[];
  readonly bytes: number;
}

// Enough compressed bytes for the longest IDX header (4 + 4 × 255) after a gzip header with a name;
// a gzip header past it (a long comment, extra field or name: RFC 1952 bounds none) reads further.
const HEAD = 4096;

/**
 * The header of the IDX file at `path`, after checking that the data, plain or decompressed, holds
 * the bytes the header declares: a plain file by its size, a gzip by its trailer's length (ISIZE, the
 * data's length modulo 2^32). Only when the trailer disagrees (a file cut short, or a gzip of several
 * members) is the file decompressed whole to find what it holds. A DatasetFormatError for a file that
 * is no IDX, is cut short or holds more; system errors (ENOENT, EACCES) are thrown as they are.
 */
export function checkIdxFileLength(path: string): IdxFileHeader {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const head = readAt(fd, 0, Math.min(size, HEAD));
    const gzip = head[0] === 0x1f && head[1] === 0x8b;
    const header = parseIdxHeader(gzip ? gunzipHead(fd, size, head, path) : head, path);
    const bytes = header.offset + header.dims.reduce((a, b) => a * b, 1) * header.elementBytes;
    const declared: IdxFileHeader = { dtype: header.dtype, dims: header.dims, bytes };
    if (!gzip) {
      if (size !== bytes) throw lengthError(path, declared, `is ${size} bytes`, size < bytes);
      return declared;
    }
    const isize = size >= 18 ? readAt(fd, size - 4, 4).readUInt32LE(0) : -1;
    if (isize !== bytes % 2 ** 32) checkGunzippedLength(readFileSync(path), path, declared);
    return declared;
  } finally {
    closeSync(fd);
  }
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const read = readSync(fd, buf, 0, length, position);
  return buf.subarray(0, read);
}

/**
 * The data a gzip's first bytes give, enough for its IDX header (a stream cut there is decompressed as
 * far as it goes): `head`, the first HEAD bytes, or four times more each time they give less, up to
 * the whole file.
 */
function gunzipHead(fd: number, size: number, head: Buffer, path: string): Buffer {
  for (let read = head; ;) {
    let data: Buffer;
    try {
      data = gunzipSync(read, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch (cause) {
      throw notGzip(path, cause);
    }
    // the magic's fourth byte is the rank: 4 + 4 × rank bytes of header
    const wanted = data.length < 4 ? 4 : 4 + 4 * (data[3] ?? 0);
    if (data.length >= wanted || read.length >= size) return data;
    const more = readAt(fd, 0, Math.min(size, read.length * 4));
    // a file that shrank since its size was read gives no more: the header check says what it lacks
    if (more.length <= read.length) return data;
    read = more;
  }
}

/** Decompresses the whole gzip `raw` (up to one byte past the declared length) and compares. */
function checkGunzippedLength(raw: Buffer, path: string, declared: IdxFileHeader): void {
  const cap = { maxOutputLength: declared.bytes + 1 };
  let data: Buffer;
  try {
    data = gunzipSync(raw, cap);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ERR_BUFFER_TOO_LARGE")
      throw lengthError(path, declared, "decompresses to more bytes", false, cause);
    if (code !== "Z_BUF_ERROR") throw notGzip(path, cause);
    // the stream ends early: how far it goes says how much is missing
    const got = gunzipSync(raw, { ...cap, finishFlush: constants.Z_SYNC_FLUSH }).length;
    if (got >= declared.bytes)
      throw new DatasetFormatError(path, "ends inside its gzip trailer: the file is cut short", { cause });
    throw lengthError(
      path,
      declared,
      `decompresses to ${got} bytes before its gzip stream ends`,
      true,
      cause,
    );
  }
  if (data.length !== declared.bytes)
    throw lengthError(path, declared, `decompresses to ${data.length} bytes`, data.length < declared.bytes);
}

function lengthError(
  path: string,
  d: IdxFileHeader,
  holds: string,
  short: boolean,
  cause?: unknown,
): DatasetFormatError {
  return new DatasetFormatError(
    path,
    `${holds}, but its IDX header declares [${d.dims.join(", ")}] ${d.dtype}, ${d.bytes} bytes with the header: ` +
      (short ? "the file is cut short" : "the file holds more than its header says"),
    cause === undefined ? undefined : { cause },
  );
}

function notGzip(path: string, cause: unknown): DatasetFormatError {
  return new DatasetFormatError(path, "starts like gzip but does not decompress: the file is damaged", {
    cause,
  });
}
