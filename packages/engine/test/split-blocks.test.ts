// Block detection across exporters' naming schemes: the family, the block count and the cut tensors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { splitModel } from "@sfprompt/engine";
import { fixtureCase } from "./helpers/split-cases.js";
import { toyBert, toyVit } from "./helpers/split-models.js";

const named = [
  { prefix: "/encoder/layers/encoder_layer_", family: "torchvision-vit" },
  { prefix: "/vit/encoder/layer.", family: "hf-encoder" },
  { prefix: "/distilbert/transformer/layer.", family: "hf-distilbert" },
  { prefix: "/blocks/blocks.", family: "timm" },
  { prefix: "/blocks.", family: "timm" },
  { prefix: "/model/layers.", family: "generic-layers" },
];

for (const n of named) {
  test(`blocks named ${n.prefix}N/... are found as ${n.family}`, () => {
    const { model } = toyVit({ blocks: 3, blockPrefix: n.prefix });
    const s = splitModel(model, { headBlocks: 2, promptLength: 1 });
    assert.equal(s.cuts.blocks?.family, n.family);
    assert.equal(s.cuts.blocks?.count, 3);
    assert.equal(
      s.cuts.blocks?.cuts[2],
      `${n.prefix}1/Add_1_output_0`,
      "block 1's last residual Add ends the head",
    );
    assert.equal(s.headOutput, `${n.prefix}1/Add_1_output_0`);
  });
}

const exports = [
  {
    name: "the torchvision ViT export",
    make: () => fixtureCase("vit"),
    family: "torchvision-vit",
    cuts: [
      "/encoder/Add_output_0",
      "/encoder/layers/encoder_layer_0/Add_1_output_0",
      "/encoder/layers/encoder_layer_1/Add_1_output_0",
    ],
  },
  {
    name: "the HF-style BERT export",
    make: () => fixtureCase("bert"),
    family: "hf-encoder",
    cuts: [
      "/bert/embeddings/LayerNorm/LayerNormalization_output_0",
      "/bert/encoder/layer.0/output/LayerNorm/LayerNormalization_output_0",
      "last_hidden_state",
    ],
  },
  {
    name: "a built BERT whose [B,1,S] additive mask is shaped like no block output",
    make: () => ({ model: toyBert({ blocks: 2, mask: "additive" }).model }),
    family: "hf-encoder",
    cuts: [
      "/embeddings/LayerNorm/LayerNormalization_output_0",
      "/encoder/layer.0/output/LayerNorm/LayerNormalization_output_0",
      "/encoder/layer.1/output/LayerNorm/LayerNormalization_output_0",
    ],
  },
];

for (const e of exports) {
  test(`in ${e.name} the cuts are the residual stream between blocks`, () => {
    const s = splitModel(e.make().model, { headBlocks: 1, promptLength: 0 });
    assert.equal(s.cuts.blocks?.family, e.family);
    assert.deepEqual(s.cuts.blocks?.cuts, e.cuts);
  });
}

test("a model that averages tokens after its final norm keeps that norm in the body, frozen", () => {
  const s = splitModel(toyVit({ blocks: 2, selection: "mean" }).model, { headBlocks: 1, promptLength: 1 });
  assert.equal(s.pooling, "mean");
  assert.deepEqual(
    s.parameters.map((p) => p.name),
    ["prompt", "head.weight", "head.bias"],
  );
  assert.ok(s.body.graph.initializers.has("norm.weight"), "the final norm's weight is in the body");
  assert.ok(!s.tail.graph.initializers.has("norm.weight"));
});

test("a CLS model keeps its final norm trainable in the tail, acting on the pooled vector", () => {
  const s = splitModel(toyVit({ blocks: 2 }).model, { headBlocks: 1, promptLength: 1 });
  assert.deepEqual(
    s.parameters.map((p) => p.name),
    ["prompt", "norm.weight", "norm.bias", "head.weight", "head.bias"],
  );
  assert.deepEqual(s.tail.graph.inputs[0]?.shape, ["batch", 8]);
});
