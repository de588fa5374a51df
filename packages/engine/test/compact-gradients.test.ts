// The compact gradient forms the sweep emits for common export patterns (one Gelu for an exporter's
// erf-GELU, one Concat for Slices that tile an axis, G without M's outputs): each checked against
// finite differences and for the graph it produces.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  buildGradientModel,
  buildSaveActivationsModels,
  runOnce,
  type Model,
  type Tensor,
} from "@sfprompt/engine";
import { CaseBuilder } from "./helpers/case-builder.js";
import { gradCheck } from "./helpers/gradcheck.js";
import { randomTensor, Rng } from "./helpers/random.js";
import { vitBlock } from "./helpers/vit-block.js";

function k(c: CaseBuilder, v: number): string {
  return c.b.constant(
    c.dtype === "float64"
      ? { dtype: "float64", dims: [], data: Float64Array.of(v) }
      : { dtype: "float32", dims: [], data: Float32Array.of(v) },
  );
}

type GeluForm = "torch" | "hf" | "shared";

/** y = gelu(x @ w) written the way an exporter does; "shared" also reads the erf output elsewhere. */
function geluCase(form: GeluForm): { c: CaseBuilder; wrt: string[] } {
  const c = new CaseBuilder("float32", 17, 7);
  const b = c.b;
  const x = b.op("MatMul", [c.x("a", [2, 3, 4]), c.x("w", [4, 5])]);
  const onePlusErf = (): [string, string] => {
    const e = b.op("Erf", [
      form === "hf" ? b.op("Mul", [x, k(c, Math.SQRT1_2)]) : b.op("Div", [x, k(c, Math.SQRT2)]),
    ]);
    return [e, b.op("Add", [k(c, 1), e])];
  };
  const [e, a] = onePlusErf();
  const y =
    form === "hf"
      ? b.op("Mul", [b.op("Mul", [x, k(c, 0.5)]), a])
      : b.op("Mul", [b.op("Mul", [x, a]), k(c, 0.5)]);
  b.op("Add", [y, form === "shared" ? e : k(c, 0)], {}, { outputs: ["y"] });
  c.out("y");
  return { c, wrt: ["a", "w"] };
}

function opTypes(m: Model): string[] {
  return m.graph.nodes.map((n) => n.opType);
}

async function assertFd(
  model: Model,
  wrt: string[],
  feeds: Record<string, Tensor>,
  f64: boolean,
): Promise<void> {
  const res = await gradCheck({ model, wrt, feeds, eps: f64 ? 1e-6 : 1e-2 });
  const tol = f64 ? 1e-6 : 2e-2;
  assert.ok(res.sampleError < tol, `sampled-element error ${res.sampleError} >= ${tol}`);
  assert.ok(res.directionError < tol, `directional error ${res.directionError} >= ${tol}`);
}

describe("an exporter's erf-GELU is differentiated as one Gelu", () => {
  const cases: { name: string; form: GeluForm; intermediates: boolean }[] = [
    { name: "torch.onnx's (x * (1 + erf(x / sqrt2))) * 0.5", form: "torch", intermediates: false },
    { name: "HF's (x * 0.5) * (1 + erf(x * (1 / sqrt2)))", form: "hf", intermediates: false },
    {
      name: "a GELU whose erf also feeds the output keeps its primitive rules",
      form: "shared",
      intermediates: true,
    },
  ];
  for (const tc of cases) {
    it(`${tc.name}: finite differences agree`, async () => {
      const { c, wrt } = geluCase(tc.form);
      await assertFd(c.model(), wrt, c.feeds, false);
    });
    it(`${tc.name}: the save-activations forward ${tc.intermediates ? "saves intermediates besides" : "saves only"} the GELU input`, () => {
      const { c, wrt } = geluCase(tc.form);
      const model = c.model();
      const { saved } = buildSaveActivationsModels(model, { wrt });
      const matmulOut = model.graph.nodes.find((n) => n.opType === "MatMul")?.outputs[0] as string;
      assert.ok(saved.includes(matmulOut), `saves the GELU input ${matmulOut}: ${saved.join(", ")}`);
      // the primitive rules read the GELU's intermediates (x / sqrt2, 1 + erf) as well
      assert.equal(saved.length > 1, tc.intermediates, `saved: ${saved.join(", ")}`);
    });
  }
});

/** x [2, 9, 3] cut into three Slices along axis 1 (packed QKV), each used differently. */
function tiledCase(tiles: [number, number][]): CaseBuilder {
  const c = new CaseBuilder("float64", 17, 9);
  const b = c.b;
  const x = c.x("x", [2, 9, 3]);
  const parts = tiles.map(([s, e]) => b.op("Slice", [x, b.ints([s]), b.ints([e]), b.ints([1])]));
  const used = parts.map((p, i) => (i === 0 ? b.op("Tanh", [p]) : i === 1 ? b.op("Mul", [p, p]) : p));
  const sums = used.map((u) => b.reduceSum(u, [1], true));
  b.op("Sum", sums, {}, { outputs: ["y"] });
  c.out("y");
  return c;
}

describe("Slices that tile an axis sum back as one Concat", () => {
  const cases: { name: string; tiles: [number, number][]; concat: boolean }[] = [
    {
      name: "three Slices covering the axis in order",
      tiles: [
        [0, 3],
        [3, 6],
        [6, 9],
      ],
      concat: true,
    },
    {
      name: "three Slices covering the axis out of order",
      tiles: [
        [6, 9],
        [0, 3],
        [3, 6],
      ],
      concat: true,
    },
    {
      name: "overlapping Slices keep Pad + Sum",
      tiles: [
        [0, 4],
        [3, 6],
        [6, 9],
      ],
      concat: false,
    },
    {
      name: "Slices leaving a gap keep Pad + Sum",
      tiles: [
        [0, 3],
        [4, 6],
        [6, 9],
      ],
      concat: false,
    },
  ];
  for (const tc of cases) {
    it(`${tc.name}: finite differences agree and the gradient ${tc.concat ? "is a Concat" : "pads"}`, async () => {
      const c = tiledCase(tc.tiles);
      const model = c.model();
      await assertFd(model, ["x"], c.feeds, true);
      const ops = opTypes(buildGradientModel(model, { wrt: ["x"] }));
      assert.equal(ops.includes("Pad"), !tc.concat, ops.join(" "));
      assert.equal(ops.filter((o) => o === "Concat").length > 0, tc.concat, ops.join(" "));
    });
  }
});

describe("keepOutputs: false gives G without M's outputs", () => {
  it("returns only the gradients, equal to full G's, and drops forward nodes only the output needed", async () => {
    const c = new CaseBuilder("float64", 17, 4);
    const b = c.b;
    const h = b.op("Tanh", [b.op("MatMul", [c.x("x", [2, 4]), c.w("w1", [4, 6])])]);
    b.op("MatMul", [h, c.w("w2", [6, 3])], {}, { outputs: ["y"] });
    c.out("y");
    const model = c.model();
    const full = buildGradientModel(model, { wrt: ["x"] });
    const lean = buildGradientModel(model, { wrt: ["x"], keepOutputs: false });
    assert.deepEqual(
      lean.graph.outputs.map((o) => o.name),
      ["grad_x"],
    );
    assert.ok(lean.graph.nodes.length < full.graph.nodes.length, "the output's own GEMM is pruned");
    const up = { grad_y: randomTensor(new Rng(2), "float64", [2, 3]) };
    const [a, d] = [await runOnce(full, { ...c.feeds, ...up }), await runOnce(lean, { ...c.feeds, ...up })];
    assert.deepEqual(
      Array.from((d.grad_x as Tensor).data as Float64Array),
      Array.from((a.grad_x as Tensor).data as Float64Array),
    );
  });
});

describe("save-activations saves the tensor behind a chain of views, not the view", () => {
  it("per-head Q/K/V (Reshape -> Transpose -> Div) are saved before the chain, which the backward re-runs", async () => {
    const c = new CaseBuilder("float64", 17, 6);
    const x = c.x("x", [2, 5, 8], {}, ["batch", 5, 8]);
    c.b.op("Identity", [vitBlock(c, x, { d: 8, heads: 2, mlp: 16 }, "tanh")], {}, { outputs: ["y"] });
    c.out("y");
    const model = c.model();
    const { forward, backward, saved } = buildSaveActivationsModels(model, { wrt: ["x"] });
    const producer = new Map(model.graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n.opType] as const)));
    const views = saved.filter((s) => ["Transpose", "Reshape", "Div"].includes(producer.get(s) ?? ""));
    assert.deepEqual(views, [], `saved views: ${views.join(", ")}`);
    assert.ok(opTypes(backward).includes("Transpose"), "the backward re-runs the head transposes");
    // and the pair still computes what G computes
    const up = { grad_y: randomTensor(new Rng(3), "float64", [2, 5, 8]) };
    const fwd = await runOnce(forward, c.feeds);
    const inputs = new Set(backward.graph.inputs.map((i) => i.name));
    const env: Record<string, Tensor> = { ...c.feeds, ...(fwd as Record<string, Tensor>), ...up };
    const back = await runOnce(
      backward,
      Object.fromEntries(Object.entries(env).filter(([k]) => inputs.has(k))),
    );
    const ref = await runOnce(buildGradientModel(model, { wrt: ["x"] }), { ...c.feeds, ...up });
    const [a, b] = [
      (ref.grad_x as Tensor).data as Float64Array,
      (back.grad_x as Tensor).data as Float64Array,
    ];
    assert.ok(
      a.every((v, i) => Math.abs(v - (b[i] as number)) < 1e-12),
      "save-activations equals recompute",
    );
  });
});

describe("LayerNormalization in float32 takes x-hat and 1/std from one fused LayerNormalization", () => {
  const cases: { name: string; axis: number; dims: number[] }[] = [
    { name: "over the last axis", axis: -1, dims: [3, 4, 6] },
    { name: "over the last two axes", axis: 1, dims: [2, 3, 5] },
  ];
  for (const tc of cases) {
    it(`${tc.name}: equals the float64 rule (recomputed statistics) to float32 precision`, async () => {
      const grads: Record<string, Float64Array>[] = [];
      for (const dtype of ["float32", "float64"] as const) {
        const c = new CaseBuilder(dtype, 17, 8);
        const norm = tc.dims.slice(tc.axis < 0 ? tc.dims.length + tc.axis : tc.axis);
        const ln = c.b.op("LayerNormalization", [c.x("x", tc.dims), c.x("g", norm), c.x("b", norm)], {
          axis: tc.axis,
        });
        c.b.op("Mul", [ln, c.x("r", tc.dims)], {}, { outputs: ["y"] });
        c.out("y");
        const g = buildGradientModel(c.model(), { wrt: ["x", "g", "b"] });
        const fused = g.graph.nodes.filter((n) => n.opType === "LayerNormalization").length;
        assert.equal(fused, dtype === "float32" ? 2 : 1, `LayerNormalization nodes in G (${dtype})`);
        const up = { grad_y: randomTensor(new Rng(5), dtype, tc.dims) };
        const out = await runOnce(g, { ...c.feeds, ...up });
        grads.push(
          Object.fromEntries(
            ["x", "g", "b"].map((w) => [
              w,
              Float64Array.from((out[`grad_${w}`] as Tensor).data as Float32Array),
            ]),
          ),
        );
      }
      for (const w of ["x", "g", "b"]) {
        const [a, b] = [grads[0]?.[w] as Float64Array, grads[1]?.[w] as Float64Array];
        const scale = Math.max(...b.map(Math.abs));
        const err = Math.max(...a.map((v, i) => Math.abs(v - (b[i] as number)))) / scale;
        assert.ok(err < 1e-5, `grad_${w}: float32 fused differs from float64 by ${err}`);
      }
    });
  }
});
