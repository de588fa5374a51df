// The gradient-model contract: input/output names and order, defaults kept for trainable
// initializers, --wrt validation, unsupported ops, pruning, and real torch.onnx exports.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  buildGradientModel,
  buildSaveActivationsModels,
  f32,
  GraphSession,
  readModel,
  runOnce,
  ShapeInferenceError,
  UnsupportedGradientError,
  writeGradientModel,
  writeModel,
  WrtError,
  type Model,
  type Tensor,
} from "@sfprompt/engine";
import { CaseBuilder, single } from "./helpers/case-builder.js";
import { randomIds, randomTensor, Rng } from "./helpers/random.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/torch/", import.meta.url));

/** x -> MatMul(w1) -> Tanh -> MatMul(w2) -> y ; plus a second output z = x * 2 and a dead branch. */
function twoLayer(): { model: Model; feeds: Record<string, Tensor> } {
  const c = new CaseBuilder("float32");
  const b = c.b;
  const x = c.x("x", [2, 4]);
  const h = b.op("Tanh", [b.op("MatMul", [x, c.w("w1", [4, 6])])]);
  b.op("MatMul", [h, c.w("w2", [6, 3])], {}, { outputs: ["y"] });
  b.op(
    "Mul",
    [x, b.constant({ dtype: "float32", dims: [], data: Float32Array.of(2) })],
    {},
    { outputs: ["z"] },
  );
  b.op("Exp", [h], {}, { name: "dead" });
  c.out("y", "z");
  return { model: c.model(), feeds: c.feeds };
}

describe("the gradient model contract", () => {
  it("lists M's inputs, grad_<output> inputs, then trainable initializers; outputs then grad_<wrt>", () => {
    const { model } = twoLayer();
    const g = buildGradientModel(model, { wrt: ["w2", "x", "w1"] });
    assert.deepEqual(
      g.graph.inputs.map((i) => i.name),
      ["x", "grad_y", "grad_z", "w2", "w1"],
    );
    assert.deepEqual(
      g.graph.outputs.map((o) => o.name),
      ["y", "z", "grad_w2", "grad_x", "grad_w1"],
    );
    assert.deepEqual(g.graph.inputs.find((i) => i.name === "grad_y")?.shape, [2, 3]);
    assert.deepEqual(g.graph.outputs.find((o) => o.name === "grad_w1")?.shape, [4, 6]);
    assert.deepEqual(
      g.graph.initializers.get("w1"),
      model.graph.initializers.get("w1"),
      "w1's value stays as the default",
    );
  });

  it("uses the stored value of a trainable initializer unless the caller feeds a new one", async () => {
    const { model, feeds } = twoLayer();
    const g = buildGradientModel(model, { wrt: ["w1"] });
    const rng = new Rng(3);
    const up = { grad_y: randomTensor(rng, "float32", [2, 3]), grad_z: randomTensor(rng, "float32", [2, 4]) };
    const session = await GraphSession.create(g);
    const withDefault = await session.run({ ...feeds, ...up });
    const w1 = randomTensor(rng, "float32", [4, 6]);
    const withFed = await session.run({ ...feeds, ...up, w1 });
    await session.release();
    const m = {
      ...model,
      graph: { ...model.graph, initializers: new Map(model.graph.initializers).set("w1", w1) },
    };
    const expected = await runOnce(buildGradientModel(m, { wrt: ["w1"] }), { ...feeds, ...up });
    assert.notDeepEqual(withFed["grad_w1"]?.data, withDefault["grad_w1"]?.data);
    assert.deepEqual(withFed["grad_w1"]?.data, expected["grad_w1"]?.data);
  });

  it("rejects --wrt names that are unknown or not float, naming them", () => {
    const c = new CaseBuilder("float32");
    single(c, "Gather", [c.x("e", [4, 2]), c.ids("ids", [3], 4)]);
    assert.throws(
      () => buildGradientModel(c.model(), { wrt: ["nope"] }),
      (e: unknown) => e instanceof WrtError && /"nope"/.test(e.message),
    );
    assert.throws(
      () => buildGradientModel(c.model(), { wrt: ["ids"] }),
      (e: unknown) => e instanceof WrtError && /int64/.test(e.message),
    );
  });

  it("names the op type and node of an op without a gradient rule on the gradient path", () => {
    const c = new CaseBuilder("float32");
    c.b.op("Cos", [c.x("x", [3])], {}, { name: "the_cos", outputs: ["y"] });
    c.out("y");
    assert.throws(
      () => buildGradientModel(c.model(), { wrt: ["x"] }),
      (e: unknown) => e instanceof UnsupportedGradientError && e.opType === "Cos" && e.nodeName === "the_cos",
    );
  });

  it("accepts ops without a rule off the gradient path", async () => {
    const c = new CaseBuilder("float32");
    const frozen = c.b.op("Cos", [c.x("f", [3])]);
    single(c, "Mul", [c.x("x", [3]), frozen]);
    const g = buildGradientModel(c.model(), { wrt: ["x"] });
    const out = await runOnce(g, { ...c.feeds, grad_y: randomTensor(new Rng(1), "float32", [3]) });
    assert.equal(out["grad_x"]?.dims.length, 1);
  });

  it("prunes dead nodes and the weight gradients nobody asked for", () => {
    const { model } = twoLayer();
    const count = (m: Model, op: string): number => m.graph.nodes.filter((n) => n.opType === op).length;
    const dx = buildGradientModel(model, { wrt: ["x"] });
    const all = buildGradientModel(model, { wrt: ["x", "w1", "w2"] });
    assert.equal(count(dx, "Exp"), 0, "the dead Exp branch is gone");
    assert.equal(count(dx, "MatMul") + count(dx, "Gemm"), 4, "2 forward + 2 input-gradient products");
    assert.equal(count(all, "MatMul") + count(all, "Gemm"), 6, "plus 2 weight-gradient products");
  });

  it("returns zeros for a wrt tensor that no output depends on", async () => {
    const c = new CaseBuilder("float32");
    c.x("unused", [2, 2]);
    single(c, "Neg", [c.x("x", [3])]);
    const out = await runOnce(buildGradientModel(c.model(), { wrt: ["unused"] }), {
      ...c.feeds,
      grad_y: randomTensor(new Rng(1), "float32", [3]),
    });
    assert.deepEqual(Array.from(out["grad_unused"]?.data as Float32Array), [0, 0, 0, 0]);
  });

  it("splits save-activations into a forward that outputs M's outputs first and a backward with only grad outputs", () => {
    const { model } = twoLayer();
    const pair = buildSaveActivationsModels(model, { wrt: ["w1", "x"] });
    assert.deepEqual(
      pair.forward.graph.outputs.slice(0, 2).map((o) => o.name),
      ["y", "z"],
    );
    assert.deepEqual(
      pair.forward.graph.outputs.slice(2).map((o) => o.name),
      [...pair.saved],
    );
    assert.deepEqual(
      pair.backward.graph.outputs.map((o) => o.name),
      ["grad_w1", "grad_x"],
    );
    assert.ok(
      !pair.backward.graph.nodes.some((n) => n.opType === "Tanh"),
      "the backward does not recompute the forward",
    );
    const own = new Set(model.graph.nodes.map((n) => n.name));
    const extra = pair.forward.graph.nodes.filter((n) => !own.has(n.name)).map((n) => n.opType);
    assert.ok(
      extra.every((op) => op === "Shape"),
      `the forward runs only M's nodes and Shape (got ${extra.join(",")})`,
    );
  });

  it("falls back to a probe run when a shape cannot be inferred statically", async () => {
    const c = new CaseBuilder("float32");
    // Shrink has no static shape rule: the Add's output shape is only known by running the model.
    const shrunk = c.b.op("Shrink", [c.x("frozen", [2, 3])], { lambd: 0.1 });
    single(c, "Add", [c.w("w", [3]), shrunk]);
    const model = c.model();
    assert.throws(
      () => buildGradientModel(model, { wrt: ["w"] }),
      (e: unknown) => e instanceof ShapeInferenceError,
    );
    const dir = mkdtempSync(join(tmpdir(), "engine-probe-"));
    writeModel(join(dir, "m.onnx"), model);
    await writeGradientModel({ model: join(dir, "m.onnx"), wrt: ["w"], out: join(dir, "g.onnx") });
    const up = f32([2, 3], [1, 2, 3, 4, 5, 6]);
    const out = await runOnce(join(dir, "g.onnx"), { frozen: c.feeds["frozen"] as Tensor, grad_y: up });
    assert.deepEqual(Array.from(out["grad_w"]?.data as Float32Array), [5, 7, 9]);
  });

  for (const [name, wrtOf, feedsOf] of [
    [
      "the torchvision ViT export",
      (m: Model) => ["pixel_values", ...floatInits(m)],
      (rng: Rng) => ({ pixel_values: randomTensor(rng, "float32", [2, 3, 32, 32]) }),
    ],
    [
      "the HF BERT export",
      (m: Model) => floatInits(m).filter((n) => !n.includes("position_ids")),
      (rng: Rng) => ({
        input_ids: randomIds(rng, [2, 5], 50),
        attention_mask: ones([2, 5]),
        token_type_ids: randomIds(rng, [2, 5], 2),
      }),
    ],
  ] as const) {
    it(`builds and runs gradients of every float weight of ${name}`, async () => {
      const dir = name.includes("ViT") ? "vit" : "bert";
      const model = readModel(`${FIXTURES}${dir}/model.onnx`);
      const rng = new Rng(2);
      const feeds = feedsOf(rng);
      const y = await runOnce(model, feeds);
      const up: Record<string, Tensor> = {};
      for (const o of model.graph.outputs)
        up[`grad_${o.name}`] = randomTensor(rng, "float32", (y[o.name] as Tensor).dims);
      const wrt = wrtOf(model);
      const out = await runOnce(buildGradientModel(model, { wrt }), { ...feeds, ...up });
      for (const o of model.graph.outputs) assert.deepEqual(out[o.name]?.dims, y[o.name]?.dims);
      for (const w of wrt) {
        const g = out[`grad_${w}`] as Tensor;
        const ref = model.graph.initializers.get(w) ?? feeds[w as keyof typeof feeds];
        assert.deepEqual(g.dims, ref?.dims, `grad_${w} is shaped like ${w}`);
        assert.ok(Array.from(g.data as Float32Array).every(Number.isFinite), `grad_${w} is finite`);
      }
    });
  }
});

function floatInits(m: Model): string[] {
  return [...m.graph.initializers]
    .filter(([, t]) => t.dtype === "float32" && t.dims.length > 0)
    .map(([n]) => n);
}

function ones(dims: number[]): Tensor {
  return { dtype: "int64", dims, data: new BigInt64Array(dims.reduce((a, b) => a * b, 1)).fill(1n) };
}
