// What the outline pass knows of an initializer without its values (dtype, dims, external data
// entries), and the checks it makes of the payload it steps over, as tensorFromProto makes them.
import { dtypeFromCode } from "../ir/dtype.js";
import type { DType } from "../ir/types.js";
import { toNumber, type ProtoMessage } from "../proto/onnx-schema.js";
import { loadModelError } from "./model-io.js";
import { checkRawBytes } from "./tensor-proto.js";
import type { WireField } from "./wire-file.js";

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

/**
 * An inline initializer's raw_data length (stepped over, not read) against its dims × dtype, as
 * tensorFromProto checks it when it reads the bytes: a file cut or changed inside a weight whose
 * framing still holds is refused here too, naming the tensor and the file.
 */
export function checkRawLength(path: string, tensor: ProtoMessage, payload: readonly WireField[]): void {
  // the last raw_data is the one a decoder keeps; none, or an empty one, means the typed fields
  const raw = payload.filter((p) => p.field === TENSOR_RAW_DATA && p.wire === 2).at(-1);
  if (raw === undefined || raw.end === raw.value) return;
  const t = outlineOf(tensor);
  if (t.external !== undefined) return;
  try {
    checkRawBytes(String(tensor["name"] ?? ""), t.dtype, t.dims, raw.end - raw.value);
  } catch (cause) {
    throw loadModelError(path, cause);
  }
}
