// A model file as an ORT session opens it: by its path when ORT can take the file as it is, else as
// ModelProto bytes without the initializers that are also graph inputs (whose values the session
// takes as defaults). External data stays in its files either way; ORT reads it from the model's folder
// (from bytes, from the folder that holds the data's real files, the locations rewritten to match).
import { dirname } from "node:path";
import type { Tensor } from "../ir/types.js";
import { onnxTypes, type ProtoMessage } from "../proto/onnx-schema.js";
import { checkExternalLocations, relocateExternalData } from "./external-location.js";
import { decodeModelProto, loadModelError, modelProtoGraph, readModelBytes } from "./model-io.js";
import { readModelProtoOutline } from "./model-outline.js";
import { tensorFromProto } from "./tensor-proto.js";

/** A model file as an ORT session takes it (readModelForSession). */
export interface SessionModel {
  /**
   * What ORT opens: the file's path when no initializer is also a graph input (the file is read by
   * ORT alone), else the ModelProto's bytes with those initializers taken out and every other tensor
   * where the file keeps it (external data stays in its file).
   */
  readonly model: string | Uint8Array;
  /** The initializers that are also graph inputs, taken out of the model: their stored values. */
  readonly overridable: Record<string, Tensor>;
  /**
   * With bytes, the folder ORT resolves their external data locations from (its
   * model_external_initializers_file_folder_path), the locations rewritten relative to it.
   */
  readonly externalDataFolder?: string;
}

const names = (v: unknown): string[] =>
  (Array.isArray(v) ? (v as ProtoMessage[]) : []).map((t) => String(t["name"] ?? ""));

/**
 * Reads a model file for an ORT session without reading its weights. Its structure is read first
 * without them (readModelProtoOutline): a file that is not there, not readable or no ONNX model is
 * readModel's OnnxIoError, and an external data location outside the model's folder an
 * ExternalDataLocationError, before ORT sees the file. When no initializer is also a graph input the
 * session opens the file by its path, so node never holds an inline model's weights (a 1.9 GiB inline
 * file was a 1.9 GiB Buffer before ORT copied it). Otherwise those initializers (trainable ones, which
 * the session takes as required inputs) are read and taken out of the graph, which is encoded again.
 */
export function readModelForSession(path: string): SessionModel {
  const outline = readModelProtoOutline(path, () => false);
  const place = { dir: dirname(path), file: path };
  let overridable: Set<string>;
  try {
    const graph = modelProtoGraph(outline);
    checkExternalLocations(graph, place);
    const inputs = new Set(names(graph["input"]));
    overridable = new Set(names(graph["initializer"]).filter((n) => inputs.has(n)));
  } catch (cause) {
    throw loadModelError(path, cause);
  }
  if (overridable.size === 0) return { model: path, overridable: {} };
  const file = readModelBytes(path);
  try {
    const msg = decodeModelProto(file);
    const graph = modelProtoGraph(msg);
    const src = { baseDir: place.dir, modelFile: path, cache: new Map<string, number>() };
    const values: Record<string, Tensor> = {};
    const kept: ProtoMessage[] = [];
    for (const t of (graph["initializer"] as ProtoMessage[]) ?? []) {
      const name = String(t["name"] ?? "");
      if (overridable.has(name)) values[name] = tensorFromProto(t, src);
      else kept.push(t);
    }
    graph["initializer"] = kept;
    // the locations as ORT resolves them from bytes: a linked snapshot's data opens as by path
    const externalDataFolder = relocateExternalData(graph, place);
    return {
      model: onnxTypes()
        .ModelProto.encode(msg as never)
        .finish(),
      overridable: values,
      externalDataFolder,
    };
  } catch (cause) {
    throw loadModelError(path, cause);
  }
}
