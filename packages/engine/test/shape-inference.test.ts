// Shape inference: every value of the torch.onnx ViT and BERT exports gets a shape that agrees with
// what ORT computes (the probe), symbolic batch and sequence included; Reshape targets and shape
// arithmetic resolve symbolically.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { defaultOpset, GraphBuilder, inferShapes, probeShapes, readModel, type Dim } from "@sfprompt/engine";
import { reshapeDims } from "../src/shape/dims.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/torch/", import.meta.url));

/** Evaluates a symbolic dim ("4*batch") with the probe's sizes. */
function evalDim(d: Dim, sizes: Record<string, number>): number | null {
  if (typeof d === "number" || d === null) return d;
  return d.split("*").reduce((p, f) => p * (/^[0-9]+$/.test(f) ? Number(f) : (sizes[f] ?? NaN)), 1);
}

describe("shape inference", () => {
  for (const [name, sizes] of [
    ["vit", { batch: 3 }],
    ["bert", { batch: 3, sequence: 5 }],
  ] as const) {
    it(`infers every value of the ${name} export as ORT computes it`, async () => {
      const model = readModel(`${FIXTURES}${name}/model.onnx`);
      const inferred = inferShapes(model.graph, defaultOpset(model));
      const probed = await probeShapes(model);
      let checked = 0;
      for (const [value, facts] of probed) {
        const mine = inferred.get(value);
        assert.ok(mine?.shape !== undefined, `${value} has a shape`);
        assert.equal(mine.dtype, facts.dtype, `${value} dtype`);
        const want = (facts.shape ?? []).map((d) => evalDim(d, sizes));
        assert.deepEqual(
          mine.shape.map((d) => evalDim(d, sizes)),
          want,
          `${value} shape`,
        );
        checked++;
      }
      assert.ok(checked > 100, `checked ${checked} values`);
      assert.deepEqual(inferred.get(model.graph.outputs[0]?.name ?? "")?.shape?.[0], "batch");
    });
  }

  const reshapes: [string, Dim[], Dim[], Dim[]][] = [
    ["copies 0 dims and infers -1 from numbers", [2, 3, 4], [0, -1], [2, 12]],
    ["keeps a symbolic batch through -1", ["batch", 3, 4], [-1, 12], ["batch", 12]],
    ["cancels a symbol between input and target", ["batch", 6, 4], ["batch", -1, 8], ["batch", 3, 8]],
    ["builds a product for merged symbolic dims", ["batch", 4, 8], [-1, 8], ["4*batch", 8]],
    ["splits a product back", ["4*batch", 8], ["batch", -1, 8], ["batch", 4, 8]],
    ["gives up (null) when the ratio is not whole", [5, 3], [2, -1], [2, null]],
  ];
  for (const [what, input, target, expected] of reshapes) {
    it(`Reshape ${what}`, () => assert.deepEqual(reshapeDims(input, target, false), expected));
  }

  it("follows Shape -> Gather -> Unsqueeze -> Concat into an Expand target with a symbolic batch", () => {
    const b = new GraphBuilder({ opset: 17 });
    b.input("ids", "int64", ["batch", 7]);
    b.input("cls", "float32", [1, 1, 4]);
    const first = b.op("Gather", [
      b.op("Shape", ["ids"]),
      b.constant({ dtype: "int64", dims: [], data: BigInt64Array.of(0n) }),
    ]);
    const target = b.op("Concat", [b.unsqueeze(first, [0]), b.ints([1, 4])], { axis: 0 });
    const y = b.op("Expand", ["cls", target]);
    const facts = inferShapes(b.graph, 17);
    assert.deepEqual(facts.get(target)?.value, ["batch", 1, 4]);
    assert.deepEqual(facts.get(y)?.shape, ["batch", 1, 4]);
  });

  it("uses axes inputs from opset 18 and attributes before", () => {
    for (const opset of [17, 18]) {
      const b = new GraphBuilder({ opset });
      b.input("x", "float32", [2, 3, 4]);
      const y = b.reduceMean("x", [1], false);
      assert.deepEqual(inferShapes(b.graph, opset).get(y)?.shape, [2, 4], `opset ${opset}`);
    }
  });
});
