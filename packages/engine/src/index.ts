// packages/engine: the ONNX toolkit: protobuf I/O, IR + graph builder, shape inference, reverse-mode
// autodiff over ONNX graphs (gradient graphs run by onnxruntime-node), ORT session helpers.
//
// Exported API (see docs/adr for the autodiff design):
//   I/O        readModel(path): Model · writeModel(path, model, { externalData? }): data files written
//              readModelForSession(path): the file's path for ORT (bytes without its trainable inputs when it has some)
//              decodeModel(bytes, baseDir?): Model · encodeModel(model): Uint8Array
//              readModelOutline(path, { values?, checkExternalData? }): the graph without weights (chosen values only)
//   IR         types Model, Graph, Node, Tensor, ValueInfo, Attr, DType, Dim; tensors f32/f64/i64/i64s/scalar
//   Builder    new GraphBuilder({ opset, graph? }) with input/output/initializer/constant/node/op and
//              opset-aware reduceSum/reduceMean/unsqueeze/squeeze/split/splitEqual; float()/floats() attrs
//   Shapes     inferShapes(graph, opset): ShapeTable (dtype, symbolic shape, small int values)
//              probeShapes(model, names?): Promise<ShapeTable> (one ORT run; fallback for unknown ranks)
//              unknownRankValues(model): string[]
//   Autodiff   buildGradientModel(model, { wrt, facts? }): Model                  (recompute variant)
//              buildSaveActivationsModels(model, { wrt, facts? }): { forward, backward, saved }
//              writeGradientModel({ model, wrt, out, mode? }): Promise<void>      (the `sfprompt grad` contract)
//              saveActivationsPaths(out): { forward, backward } · supportedGradientOps(): string[]
//              gradientOpset(model): G's opset (13-15 are written as 16, see ADR 0006)
//   ORT        GraphSession.create(model | path, opts) -> run(feeds) (inputs with a stored initializer may be
//              fed or left out; onnxruntime-node itself silently ignores feeds for such inputs)
//              createSession(model | path, opts): raw ort.InferenceSession where those inputs are required
//              runOnce(model | path, feeds) · toOrtTensor(t) · fromOrtTensor(t) · splitOverridableInitializers(m)
//   Split      splitModel(model, SplitOptions): SplitModel · buildSplitGradients(split): SplitGradients
//              prepareBundle({ model, out, ...SplitOptions }): PartitionManifest (the `sfprompt prepare` contract)
//              PartitionManifest (zod schema + type) · readPartitionManifest(dir) · manifestFiles(m) · manifestGraphFiles(m) · BUNDLE_FILES
//              errors BlockDetectionError, SplitOptionsError, CutTensorError, TailRewriteError, ManifestError
//   Errors     OnnxIoError (ExternalDataLocationError: a data location outside the model's folder), TensorFormatError, TensorBytesError (raw_data not dims × dtype), GraphError, ShapeInferenceError, UnsupportedGradientError, WrtError
export type {
  Attr,
  Dim,
  DType,
  Graph,
  Model,
  Node,
  OpsetImport,
  Tensor,
  TensorValues,
  ValueInfo,
} from "./ir/types.js";
export {
  allocValues,
  dtypeFromCode,
  codeFromDtype,
  isFloat,
  itemSize,
  makeTensor,
  numel,
} from "./ir/dtype.js";
export { f32, f64, i64, i64s, scalar, toNumbers } from "./ir/tensor.js";
export { decodeModel, encodeModel, readModel, writeModel, type WriteModelOptions } from "./onnx/model-io.js";
export { readModelForSession, type SessionModel } from "./onnx/session-model.js";
export { externalDataFiles } from "./onnx/external-data.js";
export { ExternalDataLocationError } from "./onnx/external-location.js";
export {
  readModelOutline,
  type InitializerOutline,
  type ModelOutline,
  type WantValues,
} from "./onnx/model-outline.js";
export { GraphBuilder, type GraphBuilderOptions, type NodeOptions } from "./builder/graph-builder.js";
export { float, floats, type AttrInput } from "./builder/attrs.js";
export { inferShapes, shapeValueKept } from "./shape/infer.js";
export { probeShapes } from "./shape/probe.js";
export type { ShapeTable, ValueFacts } from "./shape/facts.js";
export {
  buildGradientModel,
  buildSaveActivationsModels,
  defaultOpset,
  gradientOpset,
  unknownRankValues,
  type GradientMode,
  type GradientOptions,
} from "./autodiff/gradient-model.js";
export type { SavedActivationsModels } from "./autodiff/save-activations.js";
export {
  saveActivationsPaths,
  writeGradientModel,
  type WriteGradientModelOptions,
} from "./autodiff/write-gradient-model.js";
export { supportedGradientOps } from "./autodiff/rules/index.js";
export { pruneDead, topoSort } from "./autodiff/graph-analysis.js";
export {
  createSession,
  fromOrtTensor,
  GraphSession,
  runOnce,
  splitOverridableInitializers,
  toOrtTensor,
  type SessionOptions,
} from "./ort/session.js";
export {
  GradientNameTakenError,
  GraphError,
  OnnxIoError,
  ShapeInferenceError,
  TensorBytesError,
  TensorFormatError,
  UnknownRankError,
  UnsupportedGradientError,
  WrtError,
} from "./errors.js";
export {
  splitModel,
  PROMPT,
  POOLED,
  PROMPTED,
  type ParameterInfo,
  type ParameterInit,
  type SplitModel,
  type SplitOptions,
} from "./split/split-model.js";
export type { Pooling } from "./split/pooling.js";
export {
  buildSplitGradients,
  type SplitGradientOptions,
  type SplitGradients,
} from "./split/gradient-graphs.js";
export { buildLossGradientModel, withLoss, LABELS, LOSS } from "./split/loss.js";
export {
  BUNDLE_FILES,
  prepareBundle,
  writeBundle,
  type PrepareBundleOptions,
  type WriteBundleRequest,
} from "./split/write-bundle.js";
export {
  GradientGraph,
  GraphFile,
  LossGradientGraph,
  MANIFEST_FILE,
  manifestFiles,
  manifestGraphFiles,
  Parameter,
  Partition,
  PartitionManifest,
  readPartitionManifest,
  SaveActivationsPair,
  TensorSpec,
} from "./split/manifest.js";
export { BLOCK_PATTERNS, type BlockPattern } from "./split/block-patterns.js";
export {
  BlockDetectionError,
  CutTensorError,
  ManifestError,
  SplitOptionsError,
  TailRewriteError,
} from "./split/errors.js";
