// Loads the vendored onnx.proto with protobufjs once and exposes the message types the engine uses.
import protobuf from "protobufjs";
import { ONNX_PROTO_TEXT } from "./onnx-proto-text.js";

/** A decoded protobuf message: plain fields with snake_case names (keepCase), int64 as Long or number. */
export type ProtoMessage = Record<string, unknown>;

interface OnnxTypes {
  readonly ModelProto: protobuf.Type;
  readonly TensorProto: protobuf.Type;
}

let types: OnnxTypes | undefined;

/** The ONNX message types, parsed lazily from the vendored schema. */
export function onnxTypes(): OnnxTypes {
  if (types === undefined) {
    const root = protobuf.parse(ONNX_PROTO_TEXT, { keepCase: true }).root;
    types = {
      ModelProto: root.lookupType("onnx.ModelProto"),
      TensorProto: root.lookupType("onnx.TensorProto"),
    };
  }
  return types;
}

/** Converts a protobufjs int64 (Long, number or string) to a JS number; shapes and attributes fit in 2^53. */
export function toNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") return Number(v);
  if (typeof v === "bigint") return Number(v);
  if (v !== null && typeof v === "object" && "toNumber" in v) return (v as { toNumber(): number }).toNumber();
  return 0;
}

/** Converts a protobufjs int64 to a bigint without losing precision (tensor payloads). */
export function toBigInt(v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return BigInt(v);
  if (typeof v === "string") return BigInt(v);
  if (v !== null && typeof v === "object" && "toString" in v)
    return BigInt((v as { toString(): string }).toString());
  return 0n;
}
