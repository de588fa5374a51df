import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  clientComputeShare,
  clientRoundFlops,
  fullFineTuningFlops,
} from "../../src/training/compute-share.js";
import { TensorShapeError, TrainingArgumentError, UnknownOpFlopsError } from "../../src/training/errors.js";
import { attentionFlops, graphFlops, opFlops, type OpShapes } from "../../src/training/flops.js";

const prod = (s: number[]): number => s.reduce((a, b) => a * b, 1);

describe("FLOPs of matrix products", () => {
  const [B, H, T, dh, D, F, M, K, N] = [2, 12, 197, 64, 768, 3072, 5, 7, 3];
  const cases: Array<{ name: string; op: OpShapes; want: number }> = [
    {
      name: "MatMul [M, K]·[K, N] is 2·M·K·N",
      op: {
        opType: "MatMul",
        inputs: [
          [M, K],
          [K, N],
        ],
        outputs: [[M, N]],
      },
      want: 2 * M * K * N,
    },
    {
      name: "MatMul of a token batch by a weight, [B, T, D]·[D, F], is 2·B·T·D·F",
      op: {
        opType: "MatMul",
        inputs: [
          [B, T, D],
          [D, F],
        ],
        outputs: [[B, T, F]],
      },
      want: 2 * B * T * D * F,
    },
    {
      name: "attention scores Q·Kᵀ, [B, H, T, dh]·[B, H, dh, T], are 2·B·H·T²·dh",
      op: {
        opType: "MatMul",
        inputs: [
          [B, H, T, dh],
          [B, H, dh, T],
        ],
        outputs: [[B, H, T, T]],
      },
      want: 2 * B * H * T * T * dh,
    },
    {
      name: "a vector·matrix product, [K]·[K, N], is 2·K·N",
      op: { opType: "MatMul", inputs: [[K], [K, N]], outputs: [[N]] },
      want: 2 * K * N,
    },
    {
      name: "Gemm with bias adds M·N to 2·M·K·N",
      op: { opType: "Gemm", inputs: [[M, K], [N, K], [N]], outputs: [[M, N]], attributes: { transB: 1 } },
      want: 2 * M * K * N + M * N,
    },
    {
      name: "Gemm without bias with transposed A reads K from A's first axis",
      op: {
        opType: "Gemm",
        inputs: [
          [K, M],
          [K, N],
        ],
        outputs: [[M, N]],
        attributes: { transA: 1 },
      },
      want: 2 * M * K * N,
    },
    {
      name: "a ViT patch embedding Conv counts 2·outputs·(C·kh·kw) plus the bias",
      op: { opType: "Conv", inputs: [[1, 3, 224, 224], [D, 3, 16, 16], [D]], outputs: [[1, D, 14, 14]] },
      want: 2 * D * 196 * 3 * 16 * 16 + D * 196,
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(opFlops(c.op), c.want));
});

describe("FLOPs of element-wise, normalisation and shape ops", () => {
  const x = [4, 10, 32];
  const n = prod(x);
  const cases: Array<{ name: string; op: OpShapes; want: number }> = [
    {
      name: "Add counts one per output element",
      op: { opType: "Add", inputs: [x, [32]], outputs: [x] },
      want: n,
    },
    { name: "Erf counts one per element", op: { opType: "Erf", inputs: [x], outputs: [x] }, want: n },
    {
      name: "Softmax counts five per element",
      op: { opType: "Softmax", inputs: [x], outputs: [x] },
      want: 5 * n,
    },
    {
      name: "LayerNormalization with scale and bias counts seven per element",
      op: { opType: "LayerNormalization", inputs: [x, [32], [32]], outputs: [x] },
      want: 7 * n,
    },
    {
      name: "ReduceMean counts an add per input and a divide per output",
      op: { opType: "ReduceMean", inputs: [x], outputs: [[4, 10, 1]] },
      want: n + 40,
    },
    {
      name: "Sum of three inputs counts two adds per element",
      op: { opType: "Sum", inputs: [x, x, x], outputs: [x] },
      want: 2 * n,
    },
    {
      name: "Transpose moves data and costs nothing",
      op: { opType: "Transpose", inputs: [x], outputs: [[32, 10, 4]] },
      want: 0,
    },
    {
      name: "Reshape costs nothing",
      op: { opType: "Reshape", inputs: [x, [2]], outputs: [[40, 32]] },
      want: 0,
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(opFlops(c.op), c.want));

  it("an op without a rule is a typed error naming it", () => {
    assert.throws(
      () => opFlops({ opType: "FancyAttention", inputs: [x], outputs: [x] }),
      (e: unknown) => e instanceof UnknownOpFlopsError && e.opType === "FancyAttention",
    );
  });
  it("a symbolic (-1) dimension is refused: the table needs static shapes", () => {
    assert.throws(
      () => opFlops({ opType: "Add", inputs: [x, x], outputs: [[-1, 10, 32]] }),
      TensorShapeError,
    );
  });
});

describe("FLOPs of an attention block", () => {
  const [B, H, T, dh] = [2, 3, 17, 8];
  const heads = [B, H, T, dh];
  const scores = [B, H, T, T];
  const nodes: OpShapes[] = [
    { opType: "Transpose", inputs: [heads], outputs: [[B, H, dh, T]] },
    { opType: "MatMul", inputs: [heads, [B, H, dh, T]], outputs: [scores] },
    { opType: "Mul", inputs: [scores, []], outputs: [scores] },
    { opType: "Softmax", inputs: [scores], outputs: [scores] },
    { opType: "MatMul", inputs: [scores, heads], outputs: [heads] },
  ];

  it("attentionFlops equals the sum over the nodes of softmax(Q·Kᵀ·s)·V", () => {
    const total = nodes.reduce((a, op) => a + opFlops(op), 0);
    assert.equal(attentionFlops({ batch: B, heads: H, seq: T, headDim: dh }), total);
    assert.equal(total, 2 * (2 * B * H * T * T * dh) + 6 * B * H * T * T);
  });

  it("graphFlops totals by op type and lists ops it cannot count instead of failing", () => {
    const g = graphFlops([...nodes, { opType: "MyCustomOp", inputs: [heads], outputs: [heads] }]);
    assert.equal(g.total, attentionFlops({ batch: B, heads: H, seq: T, headDim: dh }));
    assert.equal(g.byOpType["MatMul"], 4 * B * H * T * T * dh);
    assert.equal(g.byOpType["Transpose"], 0);
    assert.deepEqual(g.unknownOps, ["MyCustomOp"]);
  });
});

describe("client compute share", () => {
  // A toy split model: per-sample forward FLOPs of head, body and tail.
  const [head, body, tail] = [1.0e6, 20.0e6, 0.1e6];
  const samples = 500;
  const kept = 250;

  it("SFPrompt's share is its measured runs over 3× the whole model's forward for the same epochs", () => {
    const runs = [
      {
        name: "local-loss step (head+tail forward and backward)",
        flopsPerSample: 3 * (head + tail),
        samples,
      },
      { name: "EL2N scoring (head+tail forward)", flopsPerSample: head + tail, samples },
      {
        name: "split step (head, tail forward and backward)",
        flopsPerSample: 3 * (head + tail),
        samples: kept,
      },
    ];
    const clientFlops = clientRoundFlops(runs);
    assert.equal(
      clientFlops,
      3 * (head + tail) * samples + (head + tail) * samples + 3 * (head + tail) * kept,
    );
    const share = clientComputeShare({
      clientFlops,
      fullForwardFlopsPerSample: head + body + tail,
      samplesPerEpoch: samples,
      epochs: 2,
    });
    assert.equal(share.baselineFlops, fullFineTuningFlops(head + body + tail, samples, 2));
    assert.equal(share.baselineFlops, 3 * (head + body + tail) * samples * 2);
    assert.equal(share.share, clientFlops / share.baselineFlops);
    assert.ok(share.share > 0 && share.share < 1);
  });

  it("a baseline of zero work has no ratio", () => {
    assert.throws(
      () =>
        clientComputeShare({ clientFlops: 1, fullForwardFlopsPerSample: 1, samplesPerEpoch: 0, epochs: 1 }),
      TrainingArgumentError,
    );
  });
  it("a negative FLOPs count names the run", () => {
    assert.throws(
      () => clientRoundFlops([{ name: "split", flopsPerSample: -1, samples: 1 }]),
      (e: unknown) => e instanceof TrainingArgumentError && e.field === "split.flopsPerSample",
    );
  });
});
