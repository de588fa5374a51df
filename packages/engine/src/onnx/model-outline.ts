// Reads an ONNX file's structure without its weights: the file is walked by positional reads at the
// protobuf wire level (tags and lengths only), the initializers' payload fields (raw_data and the typed
// *_data fields) are stepped over, and everything else is decoded by the one protobufjs decoder
// (onnxTypes) as readModel decodes it. A file of any size is never held whole; only the initializers a
// caller asks for have their payload read.
import { closeSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { OnnxIoError } from "../errors.js";
import type { Model, Tensor } from "../ir/types.js";
import { onnxTypes, type ProtoMessage } from "../proto/onnx-schema.js";
import { checkExternalLocations } from "./external-location.js";
import { checkPayloadLength, type InitializerOutline, outlineOf } from "./initializer-outline.js";
import { loadModelError, modelFromProto, modelProtoGraph, readModelError } from "./model-io.js";
import { checkExternalData, tensorFromProto } from "./tensor-proto.js";
import { concat, PositionalFile, varintBytes, type WireField, wireFields } from "./wire-file.js";

export type { InitializerOutline } from "./initializer-outline.js";

/** ModelProto.graph, GraphProto.initializer (field numbers of the vendored onnx.proto). */
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
/** TensorProto's value fields: float_data, int32_data, string_data, int64_data, raw_data, double_data, uint64_data. */
const TENSOR_PAYLOAD = new Set([4, 5, 6, 7, 9, 10, 11]);

/** Chooses the initializers whose values are read, by name and outline. */
export type WantValues = (name: string, t: InitializerOutline) => boolean;

/**
 * The ModelProto of `path` as protobufjs decodes it, its graph's initializers without their payload
 * fields except those `want` chooses (which are whole). Throws WireError or protobufjs's error on bytes
 * that are no ModelProto, Error("no graph") on one without a graph.
 */
export function readModelProtoOutline(path: string, want: WantValues): ProtoMessage {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (cause) {
    throw readModelError(path, cause);
  }
  try {
    let f: PositionalFile;
    try {
      f = new PositionalFile(fd);
    } catch (cause) {
      throw readModelError(path, cause);
    }
    const types = onnxTypes();
    try {
      const modelParts: Uint8Array[] = [];
      const graphParts: Uint8Array[] = [];
      const tensors: ProtoMessage[] = [];
      let graphs = 0;
      for (const m of wireFields(f, 0, f.size)) {
        if (m.field !== MODEL_GRAPH || m.wire !== 2) {
          modelParts.push(f.range(m.start, m.end - m.start));
          continue;
        }
        graphs++;
        for (const g of wireFields(f, m.value, m.end)) {
          if (g.field !== GRAPH_INITIALIZER || g.wire !== 2) {
            graphParts.push(f.range(g.start, g.end - g.start));
            continue;
          }
          const kept: Uint8Array[] = [];
          const payload: WireField[] = [];
          for (const t of wireFields(f, g.value, g.end)) {
            if (TENSOR_PAYLOAD.has(t.field)) payload.push(t);
            else kept.push(f.range(t.start, t.end - t.start));
          }
          const outline = types.TensorProto.decode(concat(kept)) as unknown as ProtoMessage;
          const name = String(outline["name"] ?? "");
          checkPayloadLength(path, outline, payload, f);
          const whole =
            payload.length > 0 && want(name, outlineOf(outline))
              ? (types.TensorProto.decode(
                  concat([...kept, ...payload.map((p) => f.range(p.start, p.end - p.start))]),
                ) as unknown as ProtoMessage)
              : outline;
          tensors.push(whole);
        }
      }
      const graphBytes = concat(graphParts);
      const header = new Uint8Array([MODEL_GRAPH * 8 + 2, ...varintBytes(graphBytes.byteLength)]);
      const msg = types.ModelProto.decode(
        concat([...modelParts, ...(graphs > 0 ? [header, graphBytes] : [])]),
      ) as unknown as ProtoMessage;
      const graph = msg["graph"] as ProtoMessage | undefined;
      if (graph !== undefined && graph !== null) graph["initializer"] = tensors;
      return msg;
    } catch (cause) {
      if (cause instanceof OnnxIoError) throw cause;
      // a read the file system refused (a folder opens, and its first read says EISDIR): readModel's
      // message for a file it cannot read, not a decoding failure
      if ((cause as NodeJS.ErrnoException).syscall === "read") throw readModelError(path, cause);
      throw new OnnxIoError(
        `cannot load ONNX model ${path}: the bytes are not an ONNX ModelProto (protobuf decoding failed)`,
        { cause, path },
      );
    }
  } finally {
    closeSync(fd);
  }
}

/** A model read without its weights (readModelOutline). */
export interface ModelOutline {
  /**
   * The model as readModel reads it, except that graph.initializers holds only the initializers whose
   * values were asked for: `initializers` below lists them all.
   */
  readonly model: Model;
  /** Every initializer of the main graph, in file order, without values. */
  readonly initializers: ReadonlyMap<string, InitializerOutline>;
}

/**
 * Reads an ONNX file's graph without its weights: every initializer's dtype, dims and data location,
 * and the values of those `options.values` chooses (read from the file, or from its external data
 * file, as readModel reads them). Node attributes (Constant tensors, subgraphs) are read whole. The
 * same OnnxIoErrors as readModel; with `checkExternalData`, also readModel's for an initializer whose
 * external data file cannot be opened or is shorter than its range (the file is opened, not read).
 */
export function readModelOutline(
  path: string,
  options: { values?: WantValues; checkExternalData?: boolean } = {},
): ModelOutline {
  const want = options.values ?? (() => false);
  const msg = readModelProtoOutline(path, want);
  try {
    const graph = modelProtoGraph(msg);
    // every location, the data of which is neither read nor opened here too: a caller lists or hands
    // them on (the image's model digest, a session)
    checkExternalLocations(graph, { dir: dirname(path), file: path });
    const all = (graph["initializer"] as ProtoMessage[]) ?? [];
    const initializers = new Map<string, InitializerOutline>();
    const src = { baseDir: dirname(path), modelFile: path, cache: new Map<string, number>() };
    const values = new Map<string, Tensor>();
    for (const t of all) {
      const name = String(t["name"] ?? "");
      const outline = outlineOf(t);
      initializers.set(name, outline);
      if (want(name, outline)) values.set(name, tensorFromProto(t, src));
      else if (options.checkExternalData === true && outline.external !== undefined)
        checkExternalData(t, src);
    }
    graph["initializer"] = [];
    const model = modelFromProto(msg, dirname(path), path);
    model.graph.initializers = values;
    return { model, initializers };
  } catch (cause) {
    if (cause instanceof OnnxIoError && cause.message.startsWith(`cannot load ONNX model ${path}`))
      throw cause;
    throw loadModelError(path, cause);
  }
}
