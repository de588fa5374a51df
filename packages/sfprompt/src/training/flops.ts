// FLOPs of ONNX operators from their shapes (2 per multiply-accumulate), for the client-compute
// accounting: a pure table the engine's IR feeds node by node.
import { TensorShapeError, UnknownOpFlopsError } from "./errors.js";

/** One node as the accounting sees it: op type, static shapes (absent optional inputs undefined). */
export interface OpShapes {
  readonly opType: string;
  readonly inputs: ReadonlyArray<readonly number[] | undefined>;
  readonly outputs: ReadonlyArray<readonly number[]>;
  readonly attributes?: Readonly<Record<string, unknown>>;
}

function size(shape: readonly number[] | undefined, what: string): number {
  if (!shape) throw new TensorShapeError(`${what} shape is missing: the FLOPs table needs static shapes`);
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new TensorShapeError(
        `${what} shape [${shape.join(", ")}] is not static: run shape inference first`,
      );
    }
    n *= d;
  }
  return n;
}

function dim(shape: readonly number[] | undefined, i: number, what: string): number {
  const d = shape?.at(i);
  if (d === undefined)
    throw new TensorShapeError(`${what} shape [${shape?.join(", ") ?? ""}] has no axis ${i}`);
  return d;
}

const out0 = (op: OpShapes): number => size(op.outputs[0], `${op.opType} output 0`);

// MatMul with numpy broadcasting: every output element is a K-long dot product.
function matMul(op: OpShapes): number {
  return 2 * out0(op) * dim(op.inputs[0], -1, "MatMul input A");
}

function gemm(op: OpShapes): number {
  const transA = op.attributes?.["transA"] === 1;
  const k = dim(op.inputs[0], transA ? 0 : 1, "Gemm input A");
  const bias = op.inputs[2] ? out0(op) : 0;
  return 2 * out0(op) * k + bias;
}

// Weight [M, C/group, k...]: each output element is a dot product over C/group · Πk inputs.
function conv(op: OpShapes): number {
  const w = op.inputs[1];
  const perOut = size(w?.slice(1), "Conv weight");
  return 2 * out0(op) * perOut + (op.inputs[2] ? out0(op) : 0);
}

function layerNorm(op: OpShapes): number {
  // mean, subtract, square, variance sum, multiply by 1/std: 5 per element; scale and bias 1 each.
  const n = size(op.inputs[0], "LayerNormalization input");
  return n * (5 + (op.inputs[1] ? 1 : 0) + (op.inputs[2] ? 1 : 0));
}

function reduce(op: OpShapes): number {
  const extra = op.opType === "ReduceMean" ? out0(op) : 0; // one division per output
  return size(op.inputs[0], `${op.opType} input`) + extra;
}

function variadic(op: OpShapes): number {
  const n = op.inputs.filter((s) => s !== undefined).length;
  return Math.max(0, n - 1) * out0(op) + (op.opType === "Mean" ? out0(op) : 0);
}

// FLOPs per output element. A transcendental (exp, erf, tanh) counts as one, as most FLOPs counters do.
const ONE_PER_ELEMENT =
  "Add Sub Mul Div Pow Max Min Mod PRelu Where Equal Less Greater LessOrEqual GreaterOrEqual And Or Xor " +
  "Not Relu LeakyRelu Sigmoid HardSigmoid Tanh Erf Exp Log Sqrt Reciprocal Neg Abs Sign Floor Ceil " +
  "Round Sin Cos Clip";
const PER_ELEMENT: Readonly<Record<string, number>> = {
  ...Object.fromEntries(ONE_PER_ELEMENT.split(" ").map((op) => [op, 1])),
  // x/√2, erf, +1, ·x, ·½ (exact form; the tanh approximation is within a few FLOPs).
  Gelu: 5,
  // max, subtract, exp, sum, divide.
  Softmax: 5,
  LogSoftmax: 5,
  // inference batch norm folds to scale and shift.
  BatchNormalization: 2,
};

// Data movement and shape arithmetic: no floating-point work.
const ZERO_COST = new Set(
  (
    "Reshape Transpose Concat Slice Gather GatherElements GatherND Expand Unsqueeze Squeeze Cast CastLike " +
    "Identity Flatten Dropout Shape Size Constant ConstantOfShape Range Split Pad Tile ScatterND " +
    "ScatterElements NonZero OneHot Trilu ArgMax ArgMin"
  ).split(" "),
);

const RULES: Readonly<Record<string, (op: OpShapes) => number>> = {
  MatMul: matMul,
  Gemm: gemm,
  Conv: conv,
  LayerNormalization: layerNorm,
  ReduceMean: reduce,
  ReduceSum: reduce,
  ReduceMax: reduce,
  ReduceMin: reduce,
  ReduceSumSquare: (op) => 2 * size(op.inputs[0], "ReduceSumSquare input"),
  Sum: variadic,
  Mean: variadic,
};

/** Whether opFlops has a rule for `opType`. */
export function isFlopsOpKnown(opType: string): boolean {
  return opType in RULES || opType in PER_ELEMENT || ZERO_COST.has(opType);
}

/** FLOPs of one node; throws UnknownOpFlopsError for an op type the table lacks. */
export function opFlops(op: OpShapes): number {
  const rule = RULES[op.opType];
  if (rule) return rule(op);
  const per = PER_ELEMENT[op.opType];
  if (per !== undefined) return per * out0(op);
  if (ZERO_COST.has(op.opType)) return 0;
  throw new UnknownOpFlopsError(
    `no FLOPs rule for op '${op.opType}': add one to training/flops.ts or count it as 0 explicitly`,
    op.opType,
  );
}

/** Totals over a graph; ops the table lacks count 0 and are listed, so a report can say so. */
export interface GraphFlops {
  readonly total: number;
  readonly byOpType: Readonly<Record<string, number>>;
  readonly unknownOps: readonly string[];
}

/** Sums opFlops over nodes. */
export function graphFlops(nodes: Iterable<OpShapes>): GraphFlops {
  const byOpType: Record<string, number> = {};
  const unknown = new Set<string>();
  let total = 0;
  for (const node of nodes) {
    if (!isFlopsOpKnown(node.opType)) {
      unknown.add(node.opType);
      continue;
    }
    const f = opFlops(node);
    byOpType[node.opType] = (byOpType[node.opType] ?? 0) + f;
    total += f;
  }
  return { total, byOpType, unknownOps: [...unknown].sort() };
}

/** Scaled dot-product attention sizes: queries of length `seq`, keys/values of length `kvSeq`. */
export interface AttentionDims {
  readonly batch: number;
  readonly heads: number;
  readonly seq: number;
  readonly headDim: number;
  readonly kvSeq?: number;
}

/** softmax(Q·Kᵀ/√d)·V: two batched MatMuls, the scale and the softmax (projections not included). */
export function attentionFlops(d: AttentionDims): number {
  const s = d.kvSeq ?? d.seq;
  const scores = d.batch * d.heads * d.seq * s;
  return 2 * scores * d.headDim + scores + PER_ELEMENT["Softmax"]! * scores + 2 * scores * d.headDim;
}
