// Every gradient rule checked against central finite differences run through ORT itself:
// float64 where ORT has kernels, float32 (looser tolerance) around Erf/Gelu.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildGradientModel, createSession, float, i64s, toOrtTensor, type DType } from "@sfprompt/engine";
import { CaseBuilder, single } from "./helpers/case-builder.js";
import { gradCheck } from "./helpers/gradcheck.js";

interface OpCase {
  readonly name: string;
  readonly dtype?: DType;
  readonly opset?: number;
  /** Builds the model on `c` and returns the wrt names. */
  readonly build: (c: CaseBuilder) => string[];
}

const POS = { range: [0.5, 2] as const };

const CASES: OpCase[] = [
  {
    name: "MatMul of a 3-D activation by a 2-D weight",
    build: (c) => (single(c, "MatMul", [c.x("a", [2, 3, 4]), c.x("w", [4, 5])]), ["a", "w"]),
  },
  {
    name: "MatMul of two 4-D attention tensors",
    build: (c) => (single(c, "MatMul", [c.x("q", [2, 2, 3, 4]), c.x("k", [2, 2, 4, 3])]), ["q", "k"]),
  },
  {
    name: "MatMul broadcasting a batch dim of 1",
    build: (c) => (single(c, "MatMul", [c.x("a", [2, 1, 3, 4]), c.x("b", [3, 4, 5])]), ["a", "b"]),
  },
  {
    name: "Gemm with transA, transB, alpha, beta and a row-vector C",
    build: (c) => (
      single(c, "Gemm", [c.x("a", [4, 3]), c.x("b", [5, 4]), c.x("c", [5])], {
        transA: 1,
        transB: 1,
        alpha: 0.7,
        beta: float(2),
      }),
      ["a", "b", "c"]
    ),
  },
  {
    name: "Gemm with a column C",
    build: (c) => (
      single(c, "Gemm", [c.x("a", [3, 4]), c.w("b", [4, 5]), c.x("c", [3, 1])]),
      ["a", "b", "c"]
    ),
  },
  {
    name: "Add broadcasting a bias vector",
    build: (c) => (single(c, "Add", [c.x("a", [2, 3, 4]), c.x("b", [4])]), ["a", "b"]),
  },
  {
    name: "Sub broadcasting size-1 axes on both sides",
    build: (c) => (single(c, "Sub", [c.x("a", [2, 1, 4]), c.x("b", [3, 1])]), ["a", "b"]),
  },
  {
    name: "Mul broadcasting a middle axis",
    build: (c) => (single(c, "Mul", [c.x("a", [2, 3, 4]), c.x("b", [1, 3, 1])]), ["a", "b"]),
  },
  {
    name: "Div broadcasting the denominator",
    build: (c) => (single(c, "Div", [c.x("a", [2, 3, 4]), c.x("b", [2, 1, 4], POS)]), ["a", "b"]),
  },
  {
    name: "Softmax on the last axis",
    build: (c) => (single(c, "Softmax", [c.x("x", [2, 3, 5])], { axis: -1 }), ["x"]),
  },
  {
    name: "Softmax on a middle axis",
    build: (c) => (single(c, "Softmax", [c.x("x", [2, 3, 5])], { axis: 1 }), ["x"]),
  },
  {
    name: "LayerNormalization on the last axis with scale and bias",
    build: (c) => (
      single(c, "LayerNormalization", [c.x("x", [2, 3, 6]), c.x("g", [6]), c.x("b", [6])], {
        axis: -1,
        epsilon: 1e-5,
      }),
      ["x", "g", "b"]
    ),
  },
  {
    name: "LayerNormalization over the last two axes",
    build: (c) => (
      single(c, "LayerNormalization", [c.x("x", [2, 3, 4]), c.x("g", [3, 4]), c.x("b", [3, 4])], { axis: 1 }),
      ["x", "g", "b"]
    ),
  },
  { name: "Erf in float32", dtype: "float32", build: (c) => (single(c, "Erf", [c.x("x", [3, 4])]), ["x"]) },
  {
    name: "Gelu (exact) in float32 at opset 20",
    dtype: "float32",
    opset: 20,
    build: (c) => (single(c, "Gelu", [c.x("x", [3, 4])]), ["x"]),
  },
  {
    name: "Gelu (tanh approximation) in float32 at opset 20",
    dtype: "float32",
    opset: 20,
    build: (c) => (single(c, "Gelu", [c.x("x", [3, 4])], { approximate: "tanh" }), ["x"]),
  },
  { name: "Tanh", build: (c) => (single(c, "Tanh", [c.x("x", [3, 4])]), ["x"]) },
  { name: "Sqrt of positive values", build: (c) => (single(c, "Sqrt", [c.x("x", [3, 4], POS)]), ["x"]) },
  {
    name: "Pow with a constant exponent 3",
    build: (c) => (single(c, "Pow", [c.x("x", [3, 4]), c.b.constant(scalarOf(c, 3))]), ["x"]),
  },
  {
    name: "Pow with exponent 0.5 of positive values",
    build: (c) => (single(c, "Pow", [c.x("x", [3, 4], POS), c.b.constant(scalarOf(c, 0.5))]), ["x"]),
  },
  // At a zero base or a zero exponent the plain formulas give 0 * inf (NaN); torch gives 0 there
  // (ADR 0006 amendment 3). Zeros are only where finite differences are defined: a zero base under a
  // positive exponent (0^(p±eps) = 0), a zero exponent at any base ((x±eps)^0 = 1).
  {
    name: "Pow's exponent gradient where the base is 0 and the exponent positive",
    build: (c) => {
      const x = c.x("x", [3, 4], POS);
      zeroAt(c, x, [0, 5, 11]);
      single(c, "Pow", [x, c.x("p", [3, 4], POS)]);
      return ["p"];
    },
  },
  {
    name: "Pow's base gradient where exponent and base are 0",
    build: (c) => {
      const x = c.x("x", [3, 4], POS);
      const p = c.x("p", [3, 4], POS);
      zeroAt(c, x, [1, 6]);
      zeroAt(c, p, [1, 6, 9]);
      single(c, "Pow", [x, p]);
      return ["x"];
    },
  },
  {
    name: "Pow with a constant exponent 0 of a base holding zeros",
    build: (c) => {
      const x = c.x("x", [3, 4]);
      zeroAt(c, x, [2, 7]);
      single(c, "Pow", [x, c.b.constant(scalarOf(c, 0))]);
      return ["x"];
    },
  },
  {
    name: "Pow's exponent gradient summed over a broadcast exponent row, zero bases under it",
    build: (c) => {
      const x = c.x("x", [3, 4], POS);
      zeroAt(c, x, [0, 4]);
      single(c, "Pow", [x, c.x("p", [4], { range: [1.5, 3] })]);
      return ["p"];
    },
  },
  { name: "Exp", build: (c) => (single(c, "Exp", [c.x("x", [3, 4])]), ["x"]) },
  { name: "Log of positive values", build: (c) => (single(c, "Log", [c.x("x", [3, 4], POS)]), ["x"]) },
  { name: "Relu", build: (c) => (single(c, "Relu", [c.x("x", [3, 4])]), ["x"]) },
  { name: "Sigmoid", build: (c) => (single(c, "Sigmoid", [c.x("x", [3, 4])]), ["x"]) },
  { name: "Neg", build: (c) => (single(c, "Neg", [c.x("x", [3, 4])]), ["x"]) },
  {
    name: "Reshape with a 0 and a -1",
    build: (c) => (single(c, "Reshape", [c.x("x", [2, 3, 4]), c.b.ints([0, -1, 2])]), ["x"]),
  },
  {
    name: "Transpose with a permutation",
    build: (c) => (single(c, "Transpose", [c.x("x", [2, 3, 4])], { perm: [2, 0, 1] }), ["x"]),
  },
  {
    name: "Concat of a trained and a frozen tensor",
    build: (c) => (
      single(c, "Concat", [c.x("a", [2, 1, 4]), c.x("b", [2, 3, 4]), c.x("p", [2, 2, 4])], { axis: 1 }),
      ["a", "p"]
    ),
  },
  {
    name: "Slice with a negative start, an open end and an explicit axis",
    build: (c) => (
      single(c, "Slice", [c.x("x", [2, 5, 4]), c.b.ints([-3]), c.b.ints([2 ** 53]), c.b.ints([1])]),
      ["x"]
    ),
  },
  {
    name: "Slice of two axes with inner bounds",
    build: (c) => (
      single(c, "Slice", [c.x("x", [4, 5, 3]), c.b.ints([1, 0]), c.b.ints([3, 2]), c.b.ints([0, 2])]),
      ["x"]
    ),
  },
  {
    name: "Slice whose end is before its start (an empty slice: a zero gradient of x's shape)",
    build: (c) => (
      single(c, "Slice", [c.x("x", [2, 5, 4]), c.b.ints([3]), c.b.ints([1]), c.b.ints([1])]),
      ["x"]
    ),
  },
  {
    name: "Slice whose negative end is before its negative start",
    build: (c) => (
      single(c, "Slice", [c.x("x", [2, 5, 4]), c.b.ints([-1]), c.b.ints([-4]), c.b.ints([1])]),
      ["x"]
    ),
  },
  {
    name: "Gather as an embedding lookup with repeated ids",
    build: (c) => (
      single(c, "Gather", [c.x("e", [6, 4]), c.b.constant(i64sDims([2, 3], [1, 4, 1, 0, 4, 4]))]),
      ["e"]
    ),
  },
  {
    name: "Gather of one token on axis 1 (the CLS select)",
    build: (c) => (
      single(c, "Gather", [c.x("x", [2, 5, 4]), c.b.constant(i64sDims([], [0]))], { axis: 1 }),
      ["x"]
    ),
  },
  {
    name: "Gather with a negative index on axis 2",
    build: (c) => (
      single(c, "Gather", [c.x("x", [2, 3, 4]), c.b.constant(i64s([-1, 1]))], { axis: 2 }),
      ["x"]
    ),
  },
  {
    name: "Expand of a CLS token to the batch",
    build: (c) => (single(c, "Expand", [c.x("x", [1, 1, 4]), c.b.ints([3, 1, 4])]), ["x"]),
  },
  {
    name: "Expand adding a leading axis",
    build: (c) => (single(c, "Expand", [c.x("x", [3, 1]), c.b.ints([2, 3, 4])]), ["x"]),
  },
  {
    name: "Unsqueeze",
    build: (c) => (c.b.unsqueeze(c.x("x", [3, 4]), [0, 2], { outputs: ["y"] }), c.out("y"), ["x"]),
  },
  {
    name: "Squeeze",
    build: (c) => (c.b.squeeze(c.x("x", [3, 1, 4]), [1], { outputs: ["y"] }), c.out("y"), ["x"]),
  },
  {
    name: "Where choosing between two broadcast operands",
    build: (c) => {
      const cond = c.b.op("Greater", [c.x("m", [2, 3, 4]), c.b.constant(scalarOf(c, 0))]);
      single(c, "Where", [cond, c.x("a", [3, 4]), c.x("b", [2, 1, 4])]);
      return ["a", "b"];
    },
  },
  {
    name: "Cast from float32 to float64 and back",
    dtype: "float32",
    build: (c) => (single(c, "Cast", [c.b.op("Cast", [c.x("x", [3, 4])], { to: 11 })], { to: 1 }), ["x"]),
  },
  {
    name: "ReduceMean over the last axis without keepdims",
    build: (c) => (c.b.reduceMean(c.x("x", [2, 3, 4]), [-1], false, { outputs: ["y"] }), c.out("y"), ["x"]),
  },
  {
    name: "ReduceSum over two axes",
    build: (c) => (c.b.reduceSum(c.x("x", [2, 3, 4]), [0, 2], true, { outputs: ["y"] }), c.out("y"), ["x"]),
  },
  {
    name: "ReduceMean at opset 18 (axes as input)",
    opset: 18,
    build: (c) => (c.b.reduceMean(c.x("x", [2, 3, 4]), [1], true, { outputs: ["y"] }), c.out("y"), ["x"]),
  },
  {
    name: "Flatten at axis 2",
    build: (c) => (single(c, "Flatten", [c.x("x", [2, 3, 4])], { axis: 2 }), ["x"]),
  },
  {
    name: "Identity and Dropout in inference",
    build: (c) => (single(c, "Dropout", [c.b.op("Identity", [c.x("x", [3, 4])])]), ["x"]),
  },
  {
    name: "Conv as a patch embedding (stride = kernel) in float32",
    dtype: "float32",
    build: (c) => (
      single(c, "Conv", [c.x("x", [2, 3, 4, 4]), c.x("w", [5, 3, 2, 2]), c.x("b", [5])], {
        strides: [2, 2],
        kernel_shape: [2, 2],
      }),
      ["x", "w", "b"]
    ),
  },
  {
    name: "Conv with padding, stride 2 and a ragged edge in float32",
    dtype: "float32",
    build: (c) => (
      single(c, "Conv", [c.x("x", [1, 2, 5, 6]), c.x("w", [3, 2, 3, 3])], {
        strides: [2, 2],
        pads: [1, 1, 1, 1],
      }),
      ["x", "w"]
    ),
  },
  {
    name: "fan-out of one tensor into three uses is summed",
    build: (c) => {
      const x = c.x("x", [3, 4]);
      const b = c.b;
      single(c, "Add", [b.op("Mul", [x, x]), b.op("Tanh", [x])]);
      return ["x"];
    },
  },
  {
    name: "LogSoftmax on the last axis",
    build: (c) => (single(c, "LogSoftmax", [c.x("x", [2, 5])], { axis: -1 }), ["x"]),
  },
  {
    name: "Softmax at opset 11 (coerced to 2-D from axis 1)",
    opset: 11,
    build: (c) => (single(c, "Softmax", [c.x("x", [2, 3, 4])]), ["x"]),
  },
  {
    name: "Split with one output unused",
    build: (c) => {
      const [a] = c.b.split(c.x("x", [2, 6]), 1, [2, 4]);
      single(c, "Exp", [a as string]);
      return ["x"];
    },
  },
  {
    name: "Sum of three broadcast operands",
    build: (c) => (single(c, "Sum", [c.x("a", [2, 3]), c.x("b", [3]), c.x("c", [2, 1])]), ["a", "b", "c"]),
  },
  {
    name: "Gemm without C",
    build: (c) => (single(c, "Gemm", [c.x("a", [3, 4]), c.x("b", [4, 2])]), ["a", "b"]),
  },
  {
    name: "Transpose with the default (reversed) permutation",
    build: (c) => (single(c, "Transpose", [c.x("x", [2, 3, 4])]), ["x"]),
  },
  {
    name: "LayerNormalization and ReduceMean at opset 21",
    opset: 21,
    build: (c) => {
      const ln = c.b.op("LayerNormalization", [c.x("x", [2, 3, 4]), c.x("g", [4])], { axis: -1 });
      c.b.reduceMean(ln, [1], true, { outputs: ["y"] });
      c.out("y");
      return ["x", "g"];
    },
  },
  {
    name: "Gather with repeated ids at opset 14 (G moves to opset 16)",
    opset: 14,
    build: (c) => (single(c, "Gather", [c.x("e", [5, 3]), c.b.constant(i64s([4, 1, 4]))]), ["e"]),
  },
  {
    name: "Pow and ReduceMean at opset 13 (no CastLike)",
    opset: 13,
    build: (c) => (
      c.b.reduceMean(c.b.op("Pow", [c.x("x", [2, 3]), c.b.constant(i64sDims([], [2]))]), [1], false, {
        outputs: ["y"],
      }),
      c.out("y"),
      ["x"]
    ),
  },
  {
    name: "LayerNorm decomposed as opset-14 exports write it (ReduceMean, Sub, Pow, Sqrt, Div)",
    opset: 14,
    build: (c) => {
      const b = c.b;
      const x = c.x("x", [2, 3, 5]);
      const xc = b.op("Sub", [x, b.reduceMean(x, [-1])]);
      const variance = b.reduceMean(b.op("Pow", [xc, b.constant(scalarOf(c, 2))]), [-1]);
      const norm = b.op("Div", [xc, b.op("Sqrt", [b.op("Add", [variance, b.constant(scalarOf(c, 1e-5))])])]);
      single(c, "Add", [b.op("Mul", [norm, c.x("g", [5])]), c.x("beta", [5])]);
      return ["x", "g", "beta"];
    },
  },
  {
    name: "Add with a symbolic batch dim broadcast against size 1",
    build: (c) => (
      single(c, "Add", [c.x("a", [3, 2, 4], {}, ["batch", 2, 4]), c.x("b", [1, 2, 4], {}, ["one", 2, 4])]),
      ["a", "b"]
    ),
  },
  // On a symbolic axis the bounds are known only at run time: ONNX clamps them to [0, size] and an
  // end before the start gives an empty slice (ADR 0006 amendment 4). x's "seq" axis has size 3.
  // Bounds >= 0 past the size: shape inference took them as in range (ADR 0006 amendment 5).
  ...(
    [
      ["a start past the size and a negative end (empty)", 4, -1],
      ["a start and a negative end that cross for this size (empty)", 2, -2],
      ["a start and a negative end around one element", 1, -1],
      ["a negative start before the axis and a positive end", -5, 2],
      ["a negative start and an end past the size", -2, 100],
      ["a start and an end both past the size (empty)", 5, 7],
      ["an end past the size, not INT64_MAX", 1, 100],
      ["negative bounds both before the axis (empty)", -9, -7],
      ["a negative start before the axis and a negative end", -5, -1],
    ] as const
  ).map(([what, start, end]): OpCase => ({
    name: `Slice of a symbolic axis with ${what}: [${start}, ${end}) of 3`,
    build: (c) => (
      single(c, "Slice", [
        c.x("x", [2, 3, 4], {}, [2, "seq", 4]),
        c.b.ints([start]),
        c.b.ints([end]),
        c.b.ints([1]),
      ]),
      ["x"]
    ),
  })),
  // Slice-10 and Slice-11 (opsets 10 and 11, bounds as inputs): no int64 Min/Max to clamp with, and
  // at opset 10 a Pad whose pads are an attribute (ADR 0006 amendment 6). Same bounds as above, on a
  // symbolic axis of 3, then static axes and two axes at once.
  ...[10, 11].flatMap((opset) =>
    (
      [
        [[4], [-1], [1], "seq"],
        [[2], [-2], [1], "seq"],
        [[1], [-1], [1], "seq"],
        [[-5], [2], [1], "seq"],
        [[-2], [100], [1], "seq"],
        [[5], [7], [1], "seq"],
        [[1], [100], [1], "seq"],
        [[-9], [-7], [1], "seq"],
        [[-5], [-1], [1], "seq"],
        [[1], [2 ** 31 - 1], [1], "seq"],
        [[-5, 1], [2, 3], [1, 2], "seq"],
        [[-5], [2], [1], 3],
        [[1, 0], [-1, 2], [1, 2], 3],
      ] as const
    ).map(([starts, ends, axes, dim]): OpCase => ({
      name:
        `Slice at opset ${opset} of ${typeof dim === "number" ? "a static" : "a symbolic"} axis of 3: ` +
        `starts [${starts.join(", ")}], ends [${ends.join(", ")}], axes [${axes.join(", ")}]`,
      opset,
      build: (c) => (
        single(c, "Slice", [
          c.x("x", [2, 3, 4], {}, [2, dim, 4]),
          c.b.ints(starts),
          c.b.ints(ends),
          c.b.ints(axes),
        ]),
        ["x"]
      ),
    })),
  ),
  {
    name: "Slice of a symbolic axis whose end is before its start",
    build: (c) => (
      single(c, "Slice", [
        c.x("x", [2, 5, 4], {}, [2, "seq", 4]),
        c.b.ints([3]),
        c.b.ints([1]),
        c.b.ints([1]),
      ]),
      ["x"]
    ),
  },
  {
    name: "ReduceMean over a symbolic axis with a symbolic batch",
    build: (c) => (
      c.b.reduceMean(c.x("x", [2, 3, 4], {}, ["batch", "seq", 4]), [1], false, { outputs: ["y"] }),
      c.out("y"),
      ["x"]
    ),
  },
  {
    name: "MatMul with a symbolic batch and a 2-D weight",
    build: (c) => (
      single(c, "MatMul", [c.x("a", [3, 2, 4], {}, ["batch", "seq", 4]), c.x("w", [4, 5])]),
      ["a", "w"]
    ),
  },
];

function scalarOf(c: CaseBuilder, v: number): ReturnType<typeof i64s> {
  return c.dtype === "float64"
    ? { dtype: "float64", dims: [], data: Float64Array.of(v) }
    : { dtype: "float32", dims: [], data: Float32Array.of(v) };
}

/** Sets elements of a float feed to exactly 0. */
function zeroAt(c: CaseBuilder, name: string, at: readonly number[]): void {
  const data = c.feeds[name]!.data as Float64Array | Float32Array;
  for (const i of at) data[i] = 0;
}

function i64sDims(dims: number[], values: number[]): ReturnType<typeof i64s> {
  return { dtype: "int64", dims, data: BigInt64Array.from(values.map(BigInt)) };
}

describe("gradient rules match central finite differences through ORT", () => {
  for (const tc of CASES) {
    it(tc.name, async () => {
      const dtype = tc.dtype ?? "float64";
      const c = new CaseBuilder(dtype, tc.opset ?? 17);
      const wrt = tc.build(c);
      const f64 = dtype === "float64";
      const res = await gradCheck({ model: c.model(), wrt, feeds: c.feeds, eps: f64 ? 1e-6 : 1e-2 });
      const tol = f64 ? 1e-6 : 2e-2;
      for (const [w, g] of Object.entries(res.grads))
        assert.ok(
          g.every((v) => Number.isFinite(v)),
          `grad_${w} holds ${g.find((v) => !Number.isFinite(v))}`,
        );
      assert.ok(res.sampleError < tol, `sampled-element error ${res.sampleError} >= ${tol}`);
      assert.ok(res.directionError < tol, `directional error ${res.directionError} >= ${tol}`);
    });
  }
});

// An empty batch has no finite differences to take: the gradient graph must run and give each wrt
// tensor an empty gradient of its own shape.
describe("gradient graphs run on an empty batch", () => {
  const cases: { name: string; build: (c: CaseBuilder) => void }[] = [
    {
      name: "ReduceMean over a symbolic axis (a mean over tokens) of an empty batch",
      build: (c) => {
        c.b.reduceMean(c.x("x", [0, 3, 4], {}, ["batch", "seq", 4]), [1], false, { outputs: ["y"] });
        c.out("y");
      },
    },
  ];
  for (const tc of cases) {
    it(tc.name, async () => {
      const c = new CaseBuilder("float64", 17);
      tc.build(c);
      const model = c.model();
      const forward = await createSession(model);
      const session = await createSession(buildGradientModel(model, { wrt: ["x"] }));
      try {
        const feeds: Record<string, ReturnType<typeof toOrtTensor>> = {};
        for (const [k, v] of Object.entries(c.feeds)) feeds[k] = toOrtTensor(v);
        const ys = await forward.run(feeds);
        for (const o of model.graph.outputs) {
          const dims = [...ys[o.name]!.dims];
          feeds[`grad_${o.name}`] = toOrtTensor({ dtype: "float64", dims, data: new Float64Array(0) });
        }
        const out = await session.run(feeds);
        assert.deepEqual(out["grad_x"]!.dims, c.feeds["x"]!.dims);
      } finally {
        await forward.release();
        await session.release();
      }
    });
  }
});

// Where finite differences are undefined, Pow's gradients follow torch's pow_backward_self and
// pow_backward_exponent: d/dp is 0 at a zero base under an exponent >= 0 (0^0 included), and
// y*log(x) elsewhere (-inf at a zero base under a negative exponent); d/dx is 0 at p = 0.
describe("Pow's gradients where the formulas meet 0 * inf follow torch", () => {
  it("guards the base gradient unless the exponent is a constant without zeros (x^2 of a LayerNorm)", () => {
    const whereCount = (exponent: number[]): number => {
      const c = new CaseBuilder("float32", 17);
      const p = c.b.constant({
        dtype: "float32",
        dims: [exponent.length],
        data: Float32Array.from(exponent),
      });
      single(c, "Pow", [c.x("x", [3, exponent.length]), p]);
      const g = buildGradientModel(c.model(), { wrt: ["x"] });
      return g.graph.nodes.filter((n) => n.opType === "Where").length;
    };
    assert.equal(whereCount([2, 2]), 0);
    assert.equal(whereCount([2, 0]), 1);
  });

  it("at 0^0, 0^1, 0^-1, 2^0 and 3^-1", async () => {
    const c = new CaseBuilder("float64", 17);
    const x = Float64Array.of(0, 0, 0, 2, 3);
    const p = Float64Array.of(0, 1, -1, 0, -1);
    c.b.input("x", "float64", [5]);
    c.b.input("p", "float64", [5]);
    single(c, "Pow", ["x", "p"]);
    const session = await createSession(buildGradientModel(c.model(), { wrt: ["x", "p"] }));
    try {
      const t = (data: Float64Array): ReturnType<typeof toOrtTensor> =>
        toOrtTensor({ dtype: "float64", dims: [5], data });
      const out = await session.run({ x: t(x), p: t(p), grad_y: t(new Float64Array(5).fill(1)) });
      const dx = Array.from(out["grad_x"]!.data as Float64Array);
      const dp = Array.from(out["grad_p"]!.data as Float64Array);
      const torchDx = Array.from(x, (xi, i) => (p[i] === 0 ? 0 : p[i]! * xi ** (p[i]! - 1)));
      const torchDp = Array.from(x, (xi, i) => (xi === 0 && p[i]! >= 0 ? 0 : xi ** p[i]! * Math.log(xi)));
      const near = (a: number[], b: number[], what: string): void =>
        a.forEach((v, i) =>
          assert.ok(
            Object.is(v, b[i]) || Math.abs(v - b[i]!) <= 1e-12 * Math.abs(b[i]!),
            `${what}[${i}] is ${v}, torch gives ${b[i]}`,
          ),
        );
      near(dx, torchDx, "grad_x");
      near(dp, torchDp, "grad_p");
      assert.deepEqual([dp[0], dp[1], dp[2]], [0, 0, -Infinity]);
    } finally {
      await session.release();
    }
  });
});
