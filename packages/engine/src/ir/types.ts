// The engine's in-memory model of an ONNX graph: plain objects, typed-array payloads, symbolic dims.
import type { ProtoMessage } from "../proto/onnx-schema.js";

/** Element types, named as onnxruntime-node names them. */
export type DType =
  | "float32"
  | "float64"
  | "float16"
  | "bfloat16"
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "bool"
  | "string"
  | "other";

/** A dimension: a number when known, a symbol (dim_param) when named, null when unknown. */
export type Dim = number | string | null;

/** Payload of a tensor: one typed array per dtype (int64 as BigInt64Array, bool as Uint8Array, halves as raw bits). */
export type TensorValues =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | string[];

/** A constant tensor (initializer, Constant value, tensor attribute). */
export interface Tensor {
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: TensorValues;
  /** ONNX data_type when dtype is "other" (float8, int4, complex): data then holds the raw little-endian bytes. */
  readonly onnxDataType?: number;
}

/** Static knowledge of a value: dtype and shape (undefined shape = unknown rank). */
export interface ValueInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly shape?: readonly Dim[];
}

/** One attribute value, tagged by ONNX attribute type. */
export type Attr =
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "float"; readonly value: number }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "ints"; readonly value: readonly number[] }
  | { readonly kind: "floats"; readonly value: readonly number[] }
  | { readonly kind: "strings"; readonly value: readonly string[] }
  | { readonly kind: "tensor"; readonly value: Tensor }
  | { readonly kind: "graph"; readonly value: Graph }
  | { readonly kind: "graphs"; readonly value: readonly Graph[] }
  | { readonly kind: "raw"; readonly value: ProtoMessage };

export interface Node {
  name: string;
  opType: string;
  /** "" for the default ONNX domain. */
  domain: string;
  /** "" marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
  /** Fields of NodeProto the IR does not model (doc_string, overload, metadata_props, ...). */
  extra?: ProtoMessage;
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Map<string, Tensor>;
  /** Known shapes of intermediate values (ONNX value_info). */
  valueInfo: ValueInfo[];
  extra?: ProtoMessage;
}

export interface OpsetImport {
  readonly domain: string;
  readonly version: number;
}

export interface Model {
  irVersion: number;
  opsetImports: OpsetImport[];
  graph: Graph;
  /** Fields of ModelProto the IR does not model (functions, metadata_props, producer, ...), kept verbatim. */
  extra?: ProtoMessage;
}
