// The external data files an ONNX file's tensors name (weights kept beside the model, as exports over
// 2 GiB and `sfprompt prepare`'s large graphs do), found from the model's protobuf without reading
// them: what must be there, readable and hashed along with the .onnx file.
import { dirname } from "node:path";
import { OnnxIoError } from "../errors.js";
import type { ProtoMessage } from "../proto/onnx-schema.js";
import { checkExternalLocations } from "./external-location.js";
import { readModelProtoOutline } from "./model-outline.js";

/**
 * The external data files the ONNX model at `path` names, each once, as written in the model
 * (relative to its folder); [] when every tensor is inline. Reads the graph without the initializers'
 * payload (readModelProtoOutline): a model's weights are not read to learn where they are. An
 * OnnxIoError when the file cannot be read or is no ONNX model (readModel's messages); an
 * ExternalDataLocationError when a location is no file in the model's folder (absolute, "..", a link
 * out of it), which is neither listed nor opened.
 */
export function externalDataFiles(path: string): string[] {
  const model = readModelProtoOutline(path, () => false);
  if (model["graph"] === undefined || model["graph"] === null)
    throw new OnnxIoError(`cannot load ONNX model ${path}: the ModelProto has no graph`, { path });
  return checkExternalLocations(model["graph"] as ProtoMessage, { dir: dirname(path), file: path });
}
