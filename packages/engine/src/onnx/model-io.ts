// Reads and writes ONNX files: ModelProto bytes <-> IR, with external-data files relative to the model.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { OnnxIoError } from "../errors.js";
import { bytesOfValues } from "../ir/dtype.js";
import type { Model } from "../ir/types.js";
import { onnxTypes, toNumber, type ProtoMessage } from "../proto/onnx-schema.js";
import { graphFromProto, graphToProto, type PlaceTensor } from "./graph-proto.js";
import type { ExternalPlacement } from "./tensor-proto.js";

/** Decodes ModelProto bytes; `baseDir` is where external-data locations are resolved from. */
export function decodeModel(bytes: Uint8Array, baseDir?: string): Model {
  let msg: ProtoMessage;
  try {
    msg = onnxTypes().ModelProto.decode(bytes) as unknown as ProtoMessage;
  } catch (cause) {
    throw new OnnxIoError("the bytes are not an ONNX ModelProto (protobuf decoding failed)", { cause });
  }
  const graphMsg = msg["graph"] as ProtoMessage | undefined;
  if (graphMsg === undefined || graphMsg === null) throw new OnnxIoError("the ModelProto has no graph");
  const src = baseDir === undefined ? undefined : { baseDir, cache: new Map<string, Buffer>() };
  const extra: ProtoMessage = {};
  for (const [k, v] of Object.entries(msg)) {
    if (k !== "graph" && k !== "ir_version" && k !== "opset_import") extra[k] = v;
  }
  return {
    irVersion: toNumber(msg["ir_version"]),
    opsetImports: ((msg["opset_import"] as ProtoMessage[]) ?? []).map((o) => ({
      domain: String(o["domain"] ?? ""),
      version: toNumber(o["version"]),
    })),
    graph: graphFromProto(graphMsg, src),
    extra,
  };
}

/** What to do when the model file cannot be read, by the read's error code. */
const READ_HINTS: Readonly<Record<string, string>> = {
  ENOENT: ": no such file; give the path of an .onnx file",
  EISDIR: ": it is a folder; give the .onnx file in it",
  EACCES: ": no permission to read it; check its mode and owner",
};

/** Reads an ONNX file, including tensors stored in external-data files next to it. */
export function readModel(path: string): Model {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
    throw new OnnxIoError(`cannot read ONNX model ${path} (${code})${READ_HINTS[code] ?? ""}`, {
      cause,
      path,
    });
  }
  try {
    return decodeModel(bytes, dirname(path));
  } catch (cause) {
    throw new OnnxIoError(`cannot load ONNX model ${path}: ${(cause as Error).message}`, { cause, path });
  }
}

function modelToProto(model: Model, place?: PlaceTensor): ProtoMessage {
  return {
    ...model.extra,
    ir_version: model.irVersion,
    opset_import: model.opsetImports.map((o) => (o.domain === "" ? { version: o.version } : o)),
    graph: graphToProto(model.graph, place),
  };
}

/** Encodes a model as ModelProto bytes with every tensor inline. */
export function encodeModel(model: Model): Uint8Array {
  const types = onnxTypes();
  return types.ModelProto.encode(types.ModelProto.fromObject(modelToProto(model))).finish();
}

export interface WriteModelOptions {
  /** Store initializers of at least `threshold` bytes (default 1024) in one file next to the model. */
  readonly externalData?: { readonly location?: string; readonly threshold?: number };
}

/**
 * Writes a model to a file; with `externalData`, large initializers go to a sibling data file. Returns
 * the external data files written, relative to the model's folder: [] when every tensor is inline.
 */
export function writeModel(path: string, model: Model, options: WriteModelOptions = {}): string[] {
  mkdirSync(dirname(path), { recursive: true });
  const ext = options.externalData;
  if (ext === undefined) {
    writeFileSync(path, encodeModel(model));
    return [];
  }
  const location = ext.location ?? `${basename(path)}.data`;
  const threshold = ext.threshold ?? 1024;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const place: PlaceTensor = (_name, t) => {
    if (t.dtype === "string") return undefined;
    const bytes = bytesOfValues(t.data);
    if (bytes.byteLength < threshold) return undefined;
    const pad = (4096 - (offset % 4096)) % 4096; // page-align like onnx's save_as_external_data
    if (pad > 0) chunks.push(new Uint8Array(pad));
    offset += pad;
    const placement: ExternalPlacement = { location, offset, length: bytes.byteLength };
    chunks.push(bytes);
    offset += bytes.byteLength;
    return placement;
  };
  const types = onnxTypes();
  const bytes = types.ModelProto.encode(types.ModelProto.fromObject(modelToProto(model, place))).finish();
  // no tensor past the threshold: no data file (an empty one would be a file to ship for nothing)
  if (chunks.length > 0) writeFileSync(join(dirname(path), location), Buffer.concat(chunks));
  writeFileSync(path, bytes);
  return chunks.length > 0 ? [location] : [];
}
