// Reads and writes ONNX files: ModelProto bytes <-> IR, with external-data files relative to the model.
import { closeSync, openSync, readFileSync, writeFileSync, writeSync, mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { OnnxIoError } from "../errors.js";
import { bytesOfValues } from "../ir/dtype.js";
import type { Model } from "../ir/types.js";
import { onnxTypes, toNumber, type ProtoMessage } from "../proto/onnx-schema.js";
import {
  checkExternalLocations,
  ExternalDataLocationError,
  locationProblem,
  writeLinkOutside,
} from "./external-location.js";
import { graphFromProto, graphToProto, type PlaceTensor } from "./graph-proto.js";
import type { ExternalPlacement } from "./tensor-proto.js";

/** Decodes ModelProto bytes; `baseDir` is where external-data locations are resolved from. */
export function decodeModel(bytes: Uint8Array, baseDir?: string): Model {
  return modelFromProto(decodeModelProto(bytes), baseDir);
}

/** ModelProto bytes as a protobuf message, or the OnnxIoError that says they are not one. */
export function decodeModelProto(bytes: Uint8Array): ProtoMessage {
  try {
    return onnxTypes().ModelProto.decode(bytes) as unknown as ProtoMessage;
  } catch (cause) {
    throw new OnnxIoError("the bytes are not an ONNX ModelProto (protobuf decoding failed)", { cause });
  }
}

/** A decoded ModelProto's graph, or the OnnxIoError that says it has none. */
export function modelProtoGraph(msg: ProtoMessage): ProtoMessage {
  const graph = msg["graph"] as ProtoMessage | undefined;
  if (graph === undefined || graph === null) throw new OnnxIoError("the ModelProto has no graph");
  return graph;
}

/**
 * A decoded ModelProto as IR (decodeModel, readModel, readModelOutline); external data is read from
 * `baseDir`, the folder of `modelFile` when it was read from a file.
 */
export function modelFromProto(msg: ProtoMessage, baseDir?: string, modelFile?: string): Model {
  const graphMsg = modelProtoGraph(msg);
  const src = baseDir === undefined ? undefined : { baseDir, modelFile, cache: new Map<string, number>() };
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

/** The bytes of a model file, or the OnnxIoError that says why they cannot be read. */
export function readModelBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw readModelError(path, cause);
  }
}

/** The OnnxIoError for a model file the file system would not read (open, stat or read). */
export function readModelError(path: string, cause: unknown): OnnxIoError {
  const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
  return new OnnxIoError(`cannot read ONNX model ${path} (${code})${READ_HINTS[code] ?? ""}`, {
    cause,
    path,
  });
}

/**
 * The OnnxIoError "cannot load ONNX model <path>: …" for a failure while decoding a model file; an
 * ExternalDataLocationError, which names the model already, as it is.
 */
export function loadModelError(path: string, cause: unknown): OnnxIoError {
  if (cause instanceof ExternalDataLocationError) return cause;
  return new OnnxIoError(`cannot load ONNX model ${path}: ${(cause as Error).message}`, { cause, path });
}

/**
 * Reads an ONNX file, including tensors stored in external-data files in its folder (one outside it is
 * an ExternalDataLocationError, also for a tensor whose data is not read here: a sparse initializer,
 * kept as it is in the graph's `extra` for a writer or ORT to meet).
 */
export function readModel(path: string): Model {
  const bytes = readModelBytes(path);
  try {
    const msg = decodeModelProto(bytes);
    checkExternalLocations(modelProtoGraph(msg), { dir: dirname(path), file: path });
    return modelFromProto(msg, dirname(path), path);
  } catch (cause) {
    throw loadModelError(path, cause);
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
  /**
   * Store initializers of at least `threshold` bytes (default 1024) in one file next to the model, at
   * `location` (default `<model file name>.data`): relative to the model's folder and inside it, as
   * every reader requires (an empty, absolute, "." or ".." location is an OnnxIoError).
   */
  readonly externalData?: { readonly location?: string; readonly threshold?: number };
}

/**
 * Writes `chunks` one after another, each in pieces: one write of a Buffer past 2 GiB is refused by
 * node (ERR_OUT_OF_RANGE), and one concatenated Buffer would hold every weight a second time.
 */
function writeChunks(path: string, chunks: readonly Uint8Array[]): void {
  const fd = openSync(path, "w");
  try {
    for (const c of chunks) {
      for (let at = 0; at < c.byteLength;) at += writeSync(fd, c, at, Math.min(c.byteLength - at, 1 << 30));
    }
  } finally {
    closeSync(fd);
  }
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
  const problem = locationProblem(location);
  if (problem !== undefined) {
    // a model naming it is one every reader (ours, ORT's, onnx.load) refuses: not written
    throw new OnnxIoError(
      `cannot write ONNX model ${path}: externalData.location "${location}" is ${problem.text}, ` +
        `${problem.outside ? "outside" : "not a file in"} the model's folder; ONNX external data must be ` +
        `a file in the model's folder: give a file name relative to it (such as "${basename(path)}.data")`,
      { path },
    );
  }
  const link = writeLinkOutside(dirname(path), location);
  if (link !== undefined) {
    // followed, the link overwrote the file it leads to (a Hugging Face blob another snapshot shares)
    throw new OnnxIoError(
      `cannot write ONNX model ${path}: externalData.location "${location}" is a symbolic link to ${link.real}, ` +
        `outside the model's folder ${dirname(path)}; writing through it would overwrite a file elsewhere: ` +
        `remove the link (rm ${link.link}) or give another location`,
      { path },
    );
  }
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
  if (chunks.length > 0) writeChunks(join(dirname(path), location), chunks);
  writeFileSync(path, bytes);
  return chunks.length > 0 ? [location] : [];
}
