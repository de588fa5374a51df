// The external data files an ONNX file's tensors name (weights kept beside the model, as exports over
// 2 GiB and `sfprompt prepare`'s large graphs do), found from the model's protobuf without reading
// them: what must be there, readable and hashed along with the .onnx file.
import { OnnxIoError } from "../errors.js";
import { toNumber, type ProtoMessage } from "../proto/onnx-schema.js";
import { readModelProtoOutline } from "./model-outline.js";

const EXTERNAL = 1;

const list = (v: unknown): ProtoMessage[] => (Array.isArray(v) ? (v as ProtoMessage[]) : []);

function tensorLocation(t: ProtoMessage | undefined): string[] {
  if (t === undefined || t === null || toNumber(t["data_location"]) !== EXTERNAL) return [];
  const entry = list(t["external_data"]).find((e) => String(e["key"]) === "location");
  return entry === undefined ? [] : [String(entry["value"])];
}

function graphLocations(g: ProtoMessage | undefined): string[] {
  if (g === undefined || g === null) return [];
  const fromNodes = list(g["node"]).flatMap((n) =>
    list(n["attribute"]).flatMap((a) => [
      ...tensorLocation(a["t"] as ProtoMessage | undefined),
      ...list(a["tensors"]).flatMap(tensorLocation),
      ...graphLocations(a["g"] as ProtoMessage | undefined),
      ...list(a["graphs"]).flatMap(graphLocations),
    ]),
  );
  return [...list(g["initializer"]).flatMap(tensorLocation), ...fromNodes];
}

/**
 * The external data files the ONNX model at `path` names, each once, as written in the model
 * (relative to its folder); [] when every tensor is inline. Reads the graph without the initializers'
 * payload (readModelProtoOutline): a model's weights are not read to learn where they are. An
 * OnnxIoError when the file cannot be read or is no ONNX model (readModel's messages).
 */
export function externalDataFiles(path: string): string[] {
  const model = readModelProtoOutline(path, () => false);
  if (model["graph"] === undefined || model["graph"] === null)
    throw new OnnxIoError(`cannot load ONNX model ${path}: the ModelProto has no graph`, { path });
  return [...new Set(graphLocations(model["graph"] as ProtoMessage))];
}
