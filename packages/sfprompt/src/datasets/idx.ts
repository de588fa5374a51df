// Reader for the IDX format of MNIST and Fashion-MNIST (plain or gzip): a 4-byte magic number
// (0, 0, element type, rank), big-endian uint32 dimensions, then the elements.

import buffer from "node:buffer";
import { open, readFile, stat } from "node:fs/promises";
import { createGunzip, gunzip } from "node:zlib";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { DatasetFormatError, DatasetNotFoundError } from "./errors.js";

const gunzipAsync = promisify(gunzip);

export type IdxDtype = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  readonly dtype: IdxDtype;
  readonly dims: readonly number[];
  readonly data: IdxData;
}

const DTYPES: Record<number, { dtype: IdxDtype; bytes: number }> = {
  0x08: { dtype: "uint8", bytes: 1 },
  0x09: { dtype: "int8", bytes: 1 },
  0x0b: { dtype: "int16", bytes: 2 },
  0x0c: { dtype: "int32", bytes: 4 },
  0x0d: { dtype: "float32", bytes: 4 },
  0x0e: { dtype: "float64", bytes: 8 },
};

// Longest possible header: magic + 255 dimensions.
const MAX_HEADER = 4 + 4 * 255;

/** The header of an IDX buffer: element type, dimensions and where the elements start. */
export function parseIdxHeader(
  bytes: Uint8Array,
  source: string,
): { dtype: IdxDtype; dims: number[]; offset: number; elementBytes: number } {
  if (bytes.length < 4)
    throw new DatasetFormatError(source, `is ${bytes.length} bytes, too short for an IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hex = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
  const type = DTYPES[bytes[2] as number];
  if (bytes[0] !== 0 || bytes[1] !== 0 || type === undefined) {
    throw new DatasetFormatError(
      source,
      `bad IDX magic number ${hex} (expected 00 00 <type 08|09|0b|0c|0d|0e> <rank>); is this an IDX file?`,
    );
  }
  const rank = bytes[3] as number;
  if (rank === 0) throw new DatasetFormatError(source, `IDX magic ${hex} declares rank 0`);
  const offset = 4 + 4 * rank;
  if (bytes.length < offset) {
    throw new DatasetFormatError(
      source,
      `IDX header declares ${rank} dimensions but the file ends at byte ${bytes.length}`,
    );
  }
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  return { dtype: type.dtype, dims, offset, elementBytes: type.bytes };
}

/** Parses a whole (already decompressed) IDX buffer, checking that its length matches the header. */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  const { dtype, dims, offset, elementBytes } = parseIdxHeader(bytes, source);
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = offset + count * elementBytes;
  if (bytes.length !== expected) {
    throw new DatasetFormatError(
      source,
      `IDX header says [${dims.join(", ")}] ${dtype} (${expected} bytes with header) but the data is ${bytes.length} bytes; ` +
        `the file is truncated or not this format`,
    );
  }
  return { dtype, dims, data: decodeElements(bytes, offset, count, dtype) };
}

function decodeElements(bytes: Uint8Array, offset: number, count: number, dtype: IdxDtype): IdxData {
  if (dtype === "uint8") return bytes.slice(offset, offset + count);
  if (dtype === "int8") return new Int8Array(bytes.slice(offset, offset + count).buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, bytes.byteLength - offset);
  // IDX is big-endian; typed arrays use the host order, so decode element by element.
  switch (dtype) {
    case "int16":
      return Int16Array.from({ length: count }, (_, i) => view.getInt16(2 * i, false));
    case "int32":
      return Int32Array.from({ length: count }, (_, i) => view.getInt32(4 * i, false));
    case "float32":
      return Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, false));
    case "float64":
      return Float64Array.from({ length: count }, (_, i) => view.getFloat64(8 * i, false));
  }
}

/**
 * The most bytes a file's data may hold, what set that number (said after "the N bytes") and what to
 * check when a file holds more.
 */
export interface DataSizeCap {
  readonly bytes: number;
  readonly declared: string;
  readonly check: string;
}

/**
 * Reads a file, transparently gunzipping it when it starts with the gzip magic (1f 8b). The data,
 * plain or decompressed, may hold at most `cap.bytes`: decompression stops there (a gzip bomb, or a
 * file that is not the one it is named for, takes no more memory), and a larger plain file is not read.
 */
export async function readMaybeGzip(path: string, cap: DataSizeCap): Promise<Uint8Array> {
  const tooLarge = (size: number): DatasetFormatError =>
    new DatasetFormatError(
      path,
      `is ${size} bytes, more than the ${cap.bytes} bytes ${cap.declared}. ${cap.check}`,
    );
  // a plain file past the cap is refused from its first two bytes, before it is read
  const size = await fileSize(path);
  if (size > cap.bytes && !isGzip(await readHead(path))) throw tooLarge(size);
  const raw = await readRaw(path);
  if (isGzip(raw)) return gunzipFile(raw, path, cap);
  if (raw.length > cap.bytes) throw tooLarge(raw.length);
  return raw;
}

/** The file's first two bytes (fewer for a shorter file). */
async function readHead(path: string): Promise<Uint8Array> {
  const file = await open(path, "r");
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await file.read(head, 0, 2, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/** The file's size; 0 when it cannot be had (readRaw then says why). */
async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function readRaw(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") {
      throw new DatasetNotFoundError(
        path,
        "file does not exist; check the path (or install the package that ships it)",
        {
          cause,
        },
      );
    }
    throw cause;
  }
}

function isGzip(raw: Uint8Array): boolean {
  return raw[0] === 0x1f && raw[1] === 0x8b;
}

// `cap`: the most bytes the data may decompress to (zlib stops there, so a gzip bomb or a file that
// is not what it claims cannot take more memory); `declared` says where the cap came from.
async function gunzipFile(raw: Uint8Array, path: string, cap: DataSizeCap): Promise<Uint8Array> {
  try {
    return await gunzipAsync(raw, { maxOutputLength: Math.max(1, cap.bytes) });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new DatasetFormatError(
        path,
        `decompresses to more than the ${cap.bytes} bytes ${cap.declared}; decompression was stopped there. ${cap.check}`,
        { cause },
      );
    }
    throw new DatasetFormatError(
      path,
      "starts like gzip but does not decompress; the download is probably truncated",
      {
        cause,
      },
    );
  }
}

/** The first `bytes` decompressed bytes of a gzip buffer (fewer if the data is shorter). */
async function gunzipPrefix(raw: Uint8Array, bytes: number, path: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of Readable.from([raw]).pipe(createGunzip()) as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= bytes) break;
    }
  } catch (cause) {
    throw new DatasetFormatError(
      path,
      "starts like gzip but does not decompress; the download is probably truncated",
      { cause },
    );
  }
  return Buffer.concat(chunks).subarray(0, bytes);
}

/**
 * Reads and parses an IDX file (plain or .gz). A gzipped file is decompressed to at most the size its
 * header declares: what lies beyond is refused without being held in memory.
 */
export async function readIdxFile(path: string): Promise<IdxArray> {
  const raw = await readRaw(path);
  if (!isGzip(raw)) return parseIdx(raw, path);
  const { dtype, dims, offset, elementBytes } = parseIdxHeader(
    await gunzipPrefix(raw, MAX_HEADER, path),
    path,
  );
  const bytes = offset + dims.reduce((a, b) => a * b, 1) * elementBytes;
  if (bytes > buffer.constants.MAX_LENGTH) {
    throw new DatasetFormatError(
      path,
      `IDX header says [${dims.join(", ")}] ${dtype}, ${bytes} bytes, more than one buffer can hold (${buffer.constants.MAX_LENGTH}); the file is corrupt or not this format`,
    );
  }
  const declared = `its IDX header declares ([${dims.join(", ")}] ${dtype}, header included)`;
  const check = "The file is corrupt or not this format: check that it is the IDX file it is named for";
  return parseIdx(await gunzipFile(raw, path, { bytes, declared, check }), path);
}
