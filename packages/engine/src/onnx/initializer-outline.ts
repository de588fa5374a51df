// What the outline pass knows of an initializer without its values (dtype, dims, external data
// entries), and the checks it makes of the payload it steps over, as tensorFromProto makes them.
import { dtypeFromCode } from "../ir/dtype.js";
import type { DType } from "../ir/types.js";
import { toNumber, type ProtoMessage } from "../proto/onnx-schema.js";
import { loadModelError } from "./model-io.js";
import { checkExternalBytes, checkRawBytes, checkTypedCount, typedField } from "./tensor-proto.js";
import type { PositionalFile, WireField } from "./wire-file.js";

/** TensorProto.raw_data. */
const TENSOR_RAW_DATA = 9;
const EXTERNAL = 1;

/** An initializer without its values: what the file says of it besides its payload. */
export interface InitializerOutline {
  readonly dtype: DType;
  readonly dims: readonly number[];
  /** ONNX data_type when dtype is "other". */
  readonly onnxDataType?: number;
  /** Its external_data entries (location, offset, length…) when its data is kept in another file. */
  readonly external?: Readonly<Record<string, string>>;
}

export function outlineOf(t: ProtoMessage): InitializerOutline {
  const code = toNumber(t["data_type"]);
  const dtype = dtypeFromCode(code);
  const dims = (Array.isArray(t["dims"]) ? (t["dims"] as unknown[]) : []).map(toNumber);
  const base = dtype === "other" ? { dtype, dims, onnxDataType: code } : { dtype, dims };
  if (toNumber(t["data_location"]) !== EXTERNAL) return base;
  const external: Record<string, string> = {};
  for (const e of (t["external_data"] as ProtoMessage[] | undefined) ?? [])
    external[String(e["key"])] = String(e["value"]);
  return { ...base, external };
}

/** TensorProto's typed value fields by name: their field number and the bytes of one value packed (0: a varint). */
const TYPED_FIELDS: Readonly<Record<string, { field: number; packed: number }>> = {
  float_data: { field: 4, packed: 4 },
  int32_data: { field: 5, packed: 0 },
  string_data: { field: 6, packed: -1 },
  int64_data: { field: 7, packed: 0 },
  double_data: { field: 10, packed: 8 },
  uint64_data: { field: 11, packed: 0 },
};

/**
 * An initializer's payload (stepped over, not read) against its dims × dtype, as tensorFromProto
 * checks it when it reads the values: an inline raw_data's length, the count of values in the typed
 * field its dtype reads (a packed varint field's bytes are scanned for the count, no value decoded),
 * an external tensor's `length` entry. A file cut or changed inside a weight whose framing still
 * holds is refused here too, naming the tensor and the file.
 */
export function checkPayloadLength(
  path: string,
  tensor: ProtoMessage,
  payload: readonly WireField[],
  file: PositionalFile,
): void {
  const t = outlineOf(tensor);
  const name = String(tensor["name"] ?? "");
  try {
    if (t.external !== undefined) {
      const { location = "", offset = "0", length } = t.external;
      if (length !== undefined)
        checkExternalBytes(name, t.dtype, t.dims, {
          location,
          offset: Number(offset),
          length: Number(length),
        });
      return;
    }
    // the last raw_data is the one a decoder keeps; none, or an empty one, means the typed fields
    const raw = payload.filter((p) => p.field === TENSOR_RAW_DATA && p.wire === 2).at(-1);
    if (raw !== undefined && raw.end > raw.value) {
      checkRawBytes(name, t.dtype, t.dims, raw.end - raw.value);
      return;
    }
    if (t.dtype === "other") return; // tensorFromProto refuses it when it is read
    checkTypedCount(name, t.dtype, t.dims, typedCount(TYPED_FIELDS[typedField(t.dtype)]!, payload, file));
  } catch (cause) {
    throw loadModelError(path, cause);
  }
}

/** The values a repeated field holds over its occurrences, packed (wire 2) or one by one. */
function typedCount(
  typed: { field: number; packed: number },
  payload: readonly WireField[],
  file: PositionalFile,
): number {
  let count = 0;
  for (const p of payload) {
    if (p.field !== typed.field) continue;
    if (p.wire !== 2 || typed.packed < 0) count += 1;
    else if (typed.packed > 0) count += Math.floor((p.end - p.value) / typed.packed);
    else count += file.varintCount(p.value, p.end);
  }
  return count;
}
