// Initial values of the fresh trainable parameters: seeded, within their xavier bounds, zero biases,
// and VPT's prompt fan-in (the patch embedding's input size) for a ViT.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PROMPT, splitModel, type SplitModel, type Tensor } from "@sfprompt/engine";
import { fixtureCase } from "./helpers/split-cases.js";
import { values } from "./helpers/split-run.js";

const vit = fixtureCase("vit").model;
const split = (seed: number): SplitModel =>
  splitModel(vit, { headBlocks: 1, promptLength: 4, numClasses: 6, seed });
const init = (s: SplitModel, name: string): Float64Array =>
  values(s.prompted.graph.initializers.get(name) as Tensor);

test("the same seed gives the same prompt and classifier, another seed different ones", () => {
  const [a, b, c] = [split(3), split(3), split(4)];
  for (const name of [PROMPT, "heads.head.weight"]) {
    assert.deepEqual(init(a, name), init(b, name));
    assert.notDeepEqual(init(a, name), init(c, name));
  }
});

const bounds = [
  // torchvision's conv_proj is [64, 3, 8, 8]: a prompt token stands in for a 3·8·8 patch (VPT).
  { name: PROMPT, bound: Math.sqrt(6 / (3 * 8 * 8 + 64)), shape: [4, 64], init: "xavier-uniform" },
  { name: "heads.head.weight", bound: Math.sqrt(6 / (64 + 6)), shape: [6, 64], init: "xavier-uniform" },
];

for (const b of bounds) {
  test(`${b.name} is xavier-uniform within ±${b.bound.toFixed(4)} and spreads over it`, () => {
    const s = split(0);
    const v = init(s, b.name);
    const p = s.parameters.find((x) => x.name === b.name);
    assert.deepEqual(p?.shape, b.shape);
    assert.equal(p?.init, b.init);
    const max = Math.max(...Array.from(v, Math.abs));
    assert.ok(max <= b.bound, `max |v| ${max} exceeds ${b.bound}`);
    assert.ok(max > 0.8 * b.bound, `max |v| ${max} uses the range`);
  });
}

test("a fresh classifier's bias is zero and the pre-trained tail weights keep their values", () => {
  const s = split(0);
  assert.ok(init(s, "heads.head.bias").every((x) => x === 0));
  assert.equal(s.parameters.find((p) => p.name === "heads.head.bias")?.init, "zeros");
  assert.equal(s.parameters.find((p) => p.name === "encoder.ln.weight")?.init, "pretrained");
  assert.deepEqual(
    init(s, "encoder.ln.weight"),
    values(vit.graph.initializers.get("encoder.ln.weight") as Tensor),
  );
});
