// Whole-graph gradient checks: a ViT-style pre-LN block and the SFPrompt path
// (embeddings + CLS + prompt -> Concat -> +pos -> block -> Slice CLS -> Gemm), in both variants.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildGradientModel, runOnce, type DType, type Tensor } from "@sfprompt/engine";
import { CaseBuilder } from "./helpers/case-builder.js";
import { gradCheck, runSaveActivations } from "./helpers/gradcheck.js";
import { randomTensor, Rng } from "./helpers/random.js";
import { BLOCK_PARAMS, vitBlock } from "./helpers/vit-block.js";

const DIMS = { d: 8, heads: 2, mlp: 16 };

function blockCase(dtype: DType, act: "erf" | "tanh"): { c: CaseBuilder; wrt: string[] } {
  const c = new CaseBuilder(dtype, 17, 3);
  const x = c.x("x", [2, 5, DIMS.d], {}, ["batch", 5, DIMS.d]);
  c.b.op("Identity", [vitBlock(c, x, DIMS, act)], {}, { outputs: ["y"] });
  c.out("y");
  return { c, wrt: ["x", ...BLOCK_PARAMS] };
}

/** ids -> Gather(E) ; CLS and prompt expanded to the batch ; Concat ; + pos ; block ; Slice CLS ; Gemm. */
function promptCase(dtype: DType): { c: CaseBuilder; wrt: string[] } {
  const [T, P, V, C] = [4, 3, 11, 5];
  const c = new CaseBuilder(dtype, 17, 5);
  const b = c.b;
  const ids = c.ids("ids", [2, T], V);
  b.graph.inputs[0] = { name: ids, dtype: "int64", shape: ["batch", T] };
  const tokens = b.op("Gather", [c.w("embed", [V, DIMS.d]), ids]);
  // The export pattern: the batch size read from Shape(ids) feeds the Expand targets.
  const batch = b.unsqueeze(
    b.op(
      "Gather",
      [b.op("Shape", [ids]), b.constant({ dtype: "int64", dims: [], data: BigInt64Array.of(0n) })],
      { axis: 0 },
    ),
    [0],
  );
  const target = (n: number): string => b.op("Concat", [batch, b.ints([n, DIMS.d])], { axis: 0 });
  const cls = b.op("Expand", [c.w("cls", [1, 1, DIMS.d]), target(1)]);
  const prompt = b.op("Expand", [c.w("prompt", [1, P, DIMS.d]), target(P)]);
  const seq = b.op("Add", [
    b.op("Concat", [cls, prompt, tokens], { axis: 1 }),
    c.w("pos", [1, 1 + P + T, DIMS.d]),
  ]);
  const h = vitBlock(c, seq, DIMS, dtype === "float64" ? "tanh" : "erf");
  const first = b.op("Slice", [h, b.ints([0]), b.ints([1]), b.ints([1])]);
  const pooled = b.op("Reshape", [first, b.ints([-1, DIMS.d])]);
  b.op(
    "Gemm",
    [pooled, c.w("head.w", [C, DIMS.d]), c.w("head.b", [C])],
    { transB: 1 },
    { outputs: ["logits"] },
  );
  c.out("logits");
  return { c, wrt: ["prompt", "head.w", "head.b", "cls"] };
}

async function checkBothModes(c: CaseBuilder, wrt: string[], dtype: DType): Promise<void> {
  const f64 = dtype === "float64";
  const model = c.model();
  const res = await gradCheck({ model, wrt, feeds: c.feeds, eps: f64 ? 1e-6 : 1e-2, samples: 3 });
  const tol = f64 ? 1e-6 : 2e-2;
  assert.ok(res.sampleError < tol, `sampled-element error ${res.sampleError}`);
  assert.ok(res.directionError < tol, `directional error ${res.directionError}`);
  // save-activations must give the same gradients as recompute for the same upstream gradient.
  const rng = new Rng(11);
  const y = await runOnce(model, c.feeds);
  const up: Record<string, Tensor> = {};
  for (const o of model.graph.outputs)
    up[`grad_${o.name}`] = randomTensor(rng, dtype, (y[o.name] as Tensor).dims);
  const sa = await runSaveActivations(model, wrt, c.feeds, up);
  const rec = await runOnce(buildGradientModel(model, { wrt }), { ...c.feeds, ...up });
  for (const w of wrt) {
    const a = Array.from((rec[`grad_${w}`] as Tensor).data as Float64Array);
    const b = sa.grads[`grad_${w}`];
    assert.ok(b !== undefined, `the backward model outputs grad_${w}`);
    const bv = Array.from(b.data as Float64Array);
    assert.equal(bv.length, a.length);
    const scale = Math.max(1e-3, ...a.map(Math.abs));
    const err = Math.max(...a.map((v, i) => Math.abs(v - (bv[i] as number)))) / scale;
    assert.ok(err < (f64 ? 1e-9 : 1e-4), `grad_${w}: save-activations differs from recompute by ${err}`);
  }
}

describe("whole graphs match finite differences, and save-activations matches recompute", () => {
  it("a pre-LN block with tanh-GELU in float64, all 16 parameters and the input", async () => {
    const { c, wrt } = blockCase("float64", "tanh");
    await checkBothModes(c, wrt, "float64");
  });
  it("a pre-LN block with Erf-GELU in float32", async () => {
    const { c, wrt } = blockCase("float32", "erf");
    await checkBothModes(c, wrt, "float32");
  });
  it("the prompt -> frozen block -> classifier path in float64", async () => {
    const { c, wrt } = promptCase("float64");
    await checkBothModes(c, wrt, "float64");
  });
  it("the prompt -> frozen block -> classifier path in float32", async () => {
    const { c, wrt } = promptCase("float32");
    await checkBothModes(c, wrt, "float32");
  });
});
