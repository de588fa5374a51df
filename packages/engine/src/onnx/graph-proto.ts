// Converts GraphProto/NodeProto/ValueInfoProto/AttributeProto messages to and from the IR.
import { codeFromDtype, dtypeFromCode } from "../ir/dtype.js";
import type { Attr, Dim, Graph, Node, Tensor, ValueInfo } from "../ir/types.js";
import { toNumber, type ProtoMessage } from "../proto/onnx-schema.js";
import {
  tensorFromProto,
  tensorToProto,
  type ExternalDataSource,
  type ExternalPlacement,
} from "./tensor-proto.js";

const ATTR = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  GRAPHS: 10,
} as const;

function arr(v: unknown): ProtoMessage[] {
  return Array.isArray(v) ? (v as ProtoMessage[]) : [];
}

function str(v: unknown): string {
  return v === undefined || v === null ? "" : String(v);
}

function omit(msg: ProtoMessage, keys: readonly string[]): ProtoMessage | undefined {
  const rest: ProtoMessage = {};
  for (const [k, v] of Object.entries(msg)) {
    if (keys.includes(k)) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    rest[k] = v;
  }
  return Object.keys(rest).length > 0 ? rest : undefined;
}

function dimFromProto(d: ProtoMessage): Dim {
  // proto2 defaults live on the prototype, so only own fields count as set.
  const own = (k: string): boolean => Object.prototype.hasOwnProperty.call(d, k) && d[k] !== null;
  if (own("dim_value")) return toNumber(d["dim_value"]);
  if (own("dim_param") && d["dim_param"] !== "") return String(d["dim_param"]);
  return null;
}

function valueInfoFromProto(v: ProtoMessage): ValueInfo {
  const tt = ((v["type"] as ProtoMessage | undefined)?.["tensor_type"] ?? undefined) as
    ProtoMessage | undefined;
  const name = str(v["name"]);
  if (tt === undefined || tt === null) return { name, dtype: "other" };
  const dtype = dtypeFromCode(toNumber(tt["elem_type"]));
  const shape = tt["shape"] as ProtoMessage | undefined;
  return shape === undefined || shape === null
    ? { name, dtype }
    : { name, dtype, shape: arr(shape["dim"]).map(dimFromProto) };
}

function valueInfoToProto(v: ValueInfo): ProtoMessage {
  // An unknown type is left out entirely; ORT then infers it (used by the shape probe).
  if (v.dtype === "other" && v.shape === undefined) return { name: v.name };
  const tensorType: ProtoMessage = { elem_type: v.dtype === "other" ? 0 : codeFromDtype(v.dtype) };
  if (v.shape !== undefined) {
    tensorType["shape"] = {
      dim: v.shape.map((d) =>
        typeof d === "number" ? { dim_value: d } : typeof d === "string" ? { dim_param: d } : {},
      ),
    };
  }
  return { name: v.name, type: { tensor_type: tensorType } };
}

function attrFromProto(a: ProtoMessage, src: ExternalDataSource | undefined): Attr {
  switch (toNumber(a["type"])) {
    case ATTR.FLOAT:
      return { kind: "float", value: Number(a["f"] ?? 0) };
    case ATTR.INT:
      return { kind: "int", value: toNumber(a["i"]) };
    case ATTR.STRING:
      return {
        kind: "string",
        value: Buffer.from((a["s"] as Uint8Array | undefined) ?? []).toString("utf8"),
      };
    case ATTR.TENSOR:
      return { kind: "tensor", value: tensorFromProto(a["t"] as ProtoMessage, src) };
    case ATTR.GRAPH:
      return { kind: "graph", value: graphFromProto(a["g"] as ProtoMessage, src) };
    case ATTR.FLOATS:
      return { kind: "floats", value: (a["floats"] as number[]).map(Number) };
    case ATTR.INTS:
      return { kind: "ints", value: (a["ints"] as unknown[]).map(toNumber) };
    case ATTR.STRINGS:
      return {
        kind: "strings",
        value: arr(a["strings"]).map((s) => Buffer.from(s as unknown as Uint8Array).toString()),
      };
    case ATTR.GRAPHS:
      return { kind: "graphs", value: arr(a["graphs"]).map((g) => graphFromProto(g, src)) };
    default:
      return { kind: "raw", value: a };
  }
}

function attrToProto(name: string, a: Attr): ProtoMessage {
  switch (a.kind) {
    case "float":
      return { name, type: ATTR.FLOAT, f: a.value };
    case "int":
      return { name, type: ATTR.INT, i: a.value };
    case "string":
      return { name, type: ATTR.STRING, s: Buffer.from(a.value, "utf8") };
    case "tensor":
      return { name, type: ATTR.TENSOR, t: tensorToProto("", a.value) };
    case "graph":
      return { name, type: ATTR.GRAPH, g: graphToProto(a.value) };
    case "floats":
      return { name, type: ATTR.FLOATS, floats: [...a.value] };
    case "ints":
      return { name, type: ATTR.INTS, ints: [...a.value] };
    case "strings":
      return { name, type: ATTR.STRINGS, strings: a.value.map((s) => Buffer.from(s, "utf8")) };
    case "graphs":
      return { name, type: ATTR.GRAPHS, graphs: a.value.map((g) => graphToProto(g)) };
    case "raw":
      return { ...a.value, name };
  }
}

function nodeFromProto(n: ProtoMessage, src: ExternalDataSource | undefined): Node {
  const attrs: Record<string, Attr> = {};
  for (const a of arr(n["attribute"])) attrs[str(a["name"])] = attrFromProto(a, src);
  const node: Node = {
    name: str(n["name"]),
    opType: str(n["op_type"]),
    domain: str(n["domain"]),
    inputs: (n["input"] as string[]).map(str),
    outputs: (n["output"] as string[]).map(str),
    attrs,
  };
  const extra = omit(n, ["name", "op_type", "domain", "input", "output", "attribute"]);
  if (extra !== undefined) node.extra = extra;
  return node;
}

function nodeToProto(n: Node): ProtoMessage {
  const msg: ProtoMessage = {
    ...n.extra,
    input: [...n.inputs],
    output: [...n.outputs],
    name: n.name,
    op_type: n.opType,
    attribute: Object.entries(n.attrs).map(([k, a]) => attrToProto(k, a)),
  };
  if (n.domain !== "") msg["domain"] = n.domain;
  return msg;
}

/** Decodes a GraphProto; external tensor data is read through `src`. */
export function graphFromProto(g: ProtoMessage, src?: ExternalDataSource): Graph {
  const initializers = new Map<string, Tensor>();
  for (const t of arr(g["initializer"])) initializers.set(str(t["name"]), tensorFromProto(t, src));
  const graph: Graph = {
    name: str(g["name"]),
    nodes: arr(g["node"]).map((n) => nodeFromProto(n, src)),
    inputs: arr(g["input"]).map(valueInfoFromProto),
    outputs: arr(g["output"]).map(valueInfoFromProto),
    initializers,
    valueInfo: arr(g["value_info"]).map(valueInfoFromProto),
  };
  const extra = omit(g, ["name", "node", "input", "output", "initializer", "value_info"]);
  if (extra !== undefined) graph.extra = extra;
  return graph;
}

/** Chooses, per initializer, whether its bytes go to an external file (undefined = inline). */
export type PlaceTensor = (name: string, t: Tensor) => ExternalPlacement | undefined;

/** Encodes a graph as a GraphProto. */
export function graphToProto(g: Graph, place?: PlaceTensor): ProtoMessage {
  return {
    ...g.extra,
    name: g.name,
    node: g.nodes.map(nodeToProto),
    input: g.inputs.map(valueInfoToProto),
    output: g.outputs.map(valueInfoToProto),
    initializer: [...g.initializers].map(([name, t]) => tensorToProto(name, t, place?.(name, t))),
    value_info: g.valueInfo.map(valueInfoToProto),
  };
}
