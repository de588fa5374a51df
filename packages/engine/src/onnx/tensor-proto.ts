// Converts TensorProto messages to and from IR tensors: raw_data, the typed *_data fields and external data.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { TensorBytesError, TensorFormatError } from "../errors.js";
import {
  allocValues,
  bytesOfValues,
  codeFromDtype,
  dtypeFromCode,
  itemSize,
  numel,
  valuesFromBytes,
} from "../ir/dtype.js";
import type { DType, Tensor, TensorValues } from "../ir/types.js";
import { toBigInt, toNumber, type ProtoMessage } from "../proto/onnx-schema.js";
import { externalDataPath } from "./external-location.js";

const EXTERNAL = 1;

/**
 * Where external tensor data is read from: the model's folder. Each tensor's range is read on its own
 * (a data file past 2 GiB cannot be one node Buffer, and a whole file kept besides the tensors copied
 * out of it would hold every weight twice); `cache` keeps each file's size.
 */
export interface ExternalDataSource {
  readonly baseDir: string;
  /** The model file, when read from one: named in errors, and its real folder may hold the data. */
  readonly modelFile?: string | undefined;
  readonly cache: Map<string, number>;
}

/** Reads `length` bytes at `offset` of an open file, in pieces (one read is limited to 2 GiB). */
function readRange(fd: number, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let at = 0; at < length;) {
    const n = readSync(fd, out, at, Math.min(length - at, 1 << 30), offset + at);
    if (n === 0) break;
    at += n;
  }
  return out;
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function readExternal(t: ProtoMessage, src: ExternalDataSource | undefined): Uint8Array {
  return withExternalRange(t, src, readRange);
}

/**
 * Checks that a tensor's external data range can be read (its file opens and holds the range) without
 * reading it: readExternal's errors, for a caller that reads a model's structure only (readModelOutline).
 */
export function checkExternalData(t: ProtoMessage, src: ExternalDataSource): void {
  withExternalRange(t, src, () => undefined);
}

/** Opens the external data file of `t`, checks its range against the file's size and hands it to `use`. */
function withExternalRange<T>(
  t: ProtoMessage,
  src: ExternalDataSource | undefined,
  use: (fd: number, offset: number, length: number) => T,
): T {
  const entries = new Map<string, string>();
  for (const e of asArray(t["external_data"]) as ProtoMessage[])
    entries.set(String(e["key"]), String(e["value"]));
  const location = entries.get("location");
  const name = String(t["name"] ?? "");
  if (location === undefined)
    throw new TensorFormatError(`tensor "${name}" is external but has no location entry`);
  if (src === undefined) {
    throw new TensorFormatError(
      `tensor "${name}" keeps its data in "${location}"; load the model from a file path so the data file can be found`,
    );
  }
  const path = externalDataPath({ dir: src.baseDir, file: src.modelFile }, name, location);
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (cause) {
    throw new TensorFormatError(`tensor "${name}": cannot read external data file ${path}`, { cause });
  }
  try {
    let size = src.cache.get(path);
    if (size === undefined) {
      size = fstatSync(fd).size;
      src.cache.set(path, size);
    }
    const offset = Number(entries.get("offset") ?? "0");
    const length = entries.has("length") ? Number(entries.get("length")) : size - offset;
    if (offset + length > size) {
      throw new TensorFormatError(
        `tensor "${name}": external range ${offset}+${length} exceeds ${path} (${size} bytes)`,
      );
    }
    const dims = asArray(t["dims"]).map(toNumber);
    checkExternalBytes(name, dtypeFromCode(toNumber(t["data_type"])), dims, { location, offset, length });
    return use(fd, offset, length);
  } catch (cause) {
    if (cause instanceof TensorFormatError || cause instanceof TensorBytesError) throw cause;
    throw new TensorFormatError(`tensor "${name}": cannot read external data file ${path}`, { cause });
  } finally {
    closeSync(fd);
  }
}

/** The TensorProto field that holds a dtype's values when they are not raw_data. */
export function typedField(dtype: DType): string {
  switch (dtype) {
    case "float32":
      return "float_data";
    case "float64":
      return "double_data";
    case "int64":
      return "int64_data";
    case "uint64":
    case "uint32":
      return "uint64_data";
    case "string":
      return "string_data";
    default:
      // int32, int16, int8, uint16, uint8, bool, float16, bfloat16 all live in int32_data
      return "int32_data";
  }
}

/**
 * Checks the count of a tensor's values in its typed field (`typedField(dtype)`) against its dims: a
 * TensorBytesError naming the tensor when they differ (a field cut or changed in the file; a reader
 * padded a short one with zeros).
 */
export function checkTypedCount(name: string, dtype: DType, dims: readonly number[], count: number): void {
  const want = numel(dims);
  if (count === want) return;
  throw new TensorBytesError(
    `tensor "${name}" is ${dtype} [${dims.join(",")}], ${want} value${want === 1 ? "" : "s"}, but its ${typedField(dtype)} holds ${count}: ` +
      "the file was cut or changed after it was written",
  );
}

function fromTypedFields(t: ProtoMessage, tensor: { dtype: Tensor["dtype"]; dims: number[] }): TensorValues {
  const { dtype, dims } = tensor;
  const src = asArray(t[typedField(dtype)]);
  checkTypedCount(String(t["name"] ?? ""), dtype, dims, src.length);
  const out = allocValues(dtype, src.length);
  switch (dtype) {
    case "float32":
      (out as Float32Array).set(src as number[]);
      return out;
    case "float64":
      (out as Float64Array).set(src as number[]);
      return out;
    case "int64":
      for (let i = 0; i < src.length; i++) (out as BigInt64Array)[i] = toBigInt(src[i]);
      return out;
    case "uint64":
    case "uint32":
      for (let i = 0; i < src.length; i++) {
        if (dtype === "uint64") (out as BigUint64Array)[i] = BigInt.asUintN(64, toBigInt(src[i]));
        else (out as Uint32Array)[i] = toNumber(src[i]);
      }
      return out;
    case "string":
      return src.map((b) => Buffer.from(b as Uint8Array).toString("utf8"));
    default:
      for (let i = 0; i < src.length; i++) (out as Int32Array)[i] = (src[i] as number | undefined) ?? 0;
      return out;
  }
}

/**
 * Checks an external tensor's range length (its `length` entry, or the data file's rest) against its
 * dims × dtype: a TensorBytesError naming the tensor, the location and the range when they differ.
 * String and "other" tensors are not checked.
 */
export function checkExternalBytes(
  name: string,
  dtype: DType,
  dims: readonly number[],
  range: { location: string; offset: number; length: number },
): void {
  if (dtype === "string" || dtype === "other") return;
  const want = numel(dims) * itemSize(dtype);
  if (range.length === want) return;
  throw new TensorBytesError(
    `tensor "${name}" is ${dtype} [${dims.join(",")}], ${want} bytes, but its external data at location ` +
      `"${range.location}" (offset ${range.offset}) is ${range.length} bytes long: the data file or the ` +
      "model was cut or changed after it was written",
  );
}

/**
 * Checks a tensor's inline raw_data length (`bytes`) against its dims × dtype: a TensorBytesError
 * naming the tensor when they differ (a cut or changed file). String and "other" tensors, whose size
 * is not fixed by their dims, are not checked.
 */
export function checkRawBytes(name: string, dtype: DType, dims: readonly number[], bytes: number): void {
  if (dtype === "string" || dtype === "other") return;
  const want = numel(dims) * itemSize(dtype);
  if (bytes === want) return;
  throw new TensorBytesError(
    `tensor "${name}" is ${dtype} [${dims.join(",")}], ${want} bytes, but its raw_data holds ${bytes} bytes: ` +
      "the file was cut or changed after it was written",
  );
}

/** Decodes a TensorProto (any storage form) into an IR tensor. */
export function tensorFromProto(t: ProtoMessage, src?: ExternalDataSource): Tensor {
  const code = toNumber(t["data_type"]);
  const dtype = dtypeFromCode(code);
  const dims = asArray(t["dims"]).map(toNumber);
  const name = String(t["name"] ?? "");
  let data: TensorValues;
  if (toNumber(t["data_location"]) === EXTERNAL) {
    data = valuesFromBytes(dtype, readExternal(t, src));
  } else if (t["raw_data"] instanceof Uint8Array && (t["raw_data"] as Uint8Array).byteLength > 0) {
    checkRawBytes(name, dtype, dims, (t["raw_data"] as Uint8Array).byteLength);
    data = valuesFromBytes(dtype, t["raw_data"] as Uint8Array);
  } else if (dtype === "other") {
    throw new TensorFormatError(
      `tensor "${name}" has data_type ${code}, which is only supported as raw_data`,
    );
  } else {
    data = fromTypedFields(t, { dtype, dims });
  }
  if (dtype !== "other" && data.length !== numel(dims)) {
    throw new TensorFormatError(`tensor "${name}" has shape [${dims.join(",")}] but ${data.length} values`);
  }
  return dtype === "other" ? { dtype, dims, data, onnxDataType: code } : { dtype, dims, data };
}

/** Where to put a tensor's bytes when encoding: inline raw_data, or a range of an external file. */
export interface ExternalPlacement {
  readonly location: string;
  readonly offset: number;
  readonly length: number;
}

/** Encodes an IR tensor as a TensorProto (raw_data, or external_data entries when placed outside). */
export function tensorToProto(name: string, t: Tensor, external?: ExternalPlacement): ProtoMessage {
  const base: ProtoMessage = { name, dims: [...t.dims], data_type: codeFromDtype(t.dtype, t.onnxDataType) };
  if (t.dtype === "string") {
    return { ...base, string_data: (t.data as string[]).map((s) => Buffer.from(s, "utf8")) };
  }
  if (external !== undefined) {
    return {
      ...base,
      data_location: EXTERNAL,
      external_data: [
        { key: "location", value: external.location },
        { key: "offset", value: String(external.offset) },
        { key: "length", value: String(external.length) },
      ],
    };
  }
  return { ...base, raw_data: bytesOfValues(t.data) };
}
