// Typed errors of the engine: one class per failure kind, each naming what was wrong and what to do.

/** The ONNX file could not be read, decoded or written. */
export class OnnxIoError extends Error {
  override readonly name: string = "OnnxIoError";
  /** The model file, when the error is one of reading a file. */
  readonly path: string | undefined;
  constructor(message: string, options?: { cause?: unknown; path?: string }) {
    super(message, options);
    this.path = options?.path;
  }
}

/** A tensor's dtype or payload is not representable (unknown data_type, missing external data, ...). */
export class TensorFormatError extends Error {
  override readonly name = "TensorFormatError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A tensor's stored bytes are not as many as its dims and dtype need: the file was cut or changed
 * after it was written (its protobuf framing may still be whole). Names the tensor and where its
 * bytes are; a reader of the file (readModel, readModelOutline) wraps it in an OnnxIoError naming it.
 */
export class TensorBytesError extends Error {
  override readonly name = "TensorBytesError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The graph is malformed for the requested operation (unknown tensor, cycle, missing producer). */
export class GraphError extends Error {
  override readonly name = "GraphError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Shape inference could not determine a value's dtype or shape. */
export class ShapeInferenceError extends Error {
  override readonly name = "ShapeInferenceError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A gradient rule needed the rank of a value that shape inference left unknown (an input of unknown
 * rank, or an op with no shape inference before it). The value and the node whose rule asked.
 */
export class UnknownRankError extends ShapeInferenceError {
  constructor(
    readonly value: string,
    readonly nodeName: string,
    readonly opType: string,
  ) {
    super(
      `the rank of "${value}" (input/output of node "${nodeName}", ${opType}) is unknown; ` +
        "give the model's inputs static ranks or run shape inference with a probe",
    );
  }
}

/** The model already has a tensor by the name a gradient graph gives one of its tensors (grad_<name>). */
export class GradientNameTakenError extends GraphError {
  constructor(readonly tensorName: string) {
    super(`the model already has a tensor named "${tensorName}"; rename it before taking gradients`);
  }
}

/** An op on the gradient path has no gradient rule (or an unsupported attribute combination). */
export class UnsupportedGradientError extends Error {
  override readonly name = "UnsupportedGradientError";
  readonly opType: string;
  readonly nodeName: string;
  /** What of the op's attributes or inputs has no rule (a Conv's group), when the op has one. */
  readonly detail: string | undefined;
  constructor(opType: string, nodeName: string, detail?: string, options?: { cause?: unknown }) {
    super(
      `no gradient rule for op ${opType} (node "${nodeName}")${detail ? `: ${detail}` : ""}; ` +
        "differentiate with respect to tensors that do not flow through this node, or add a rule in packages/engine/src/autodiff/rules",
      options,
    );
    this.opType = opType;
    this.nodeName = nodeName;
    this.detail = detail;
  }
}

/** The --wrt list names something that cannot be differentiated (unknown name, non-float dtype). */
export class WrtError extends Error {
  override readonly name = "WrtError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
