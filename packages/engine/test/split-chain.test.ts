// The split chain head -> body -> tail, fed by name, against the original model (P = 0) and against
// the whole prompted model (P > 0): logits, shapes, the extended mask and the prompt's influence.
import { test } from "node:test";
import assert from "node:assert/strict";
import { f32, PROMPT, type SplitOptions, type Tensor } from "@sfprompt/engine";
import { chainFiles, fixtureCase, writeCaseBundle, type ModelCase } from "./helpers/split-cases.js";
import { toyBert, toyVit } from "./helpers/split-models.js";
import { maxAbsDiff, runChain, runOn, values } from "./helpers/split-run.js";

const toy = (m: { model: ModelCase["model"]; feeds: ModelCase["feeds"] }): ModelCase => ({
  ...m,
  source: "toy.onnx",
});

const reproduceCases: { name: string; make: () => ModelCase; options: SplitOptions }[] = [
  {
    name: "a torchvision ViT export cut after block 1",
    make: () => fixtureCase("vit"),
    options: { headBlocks: 1, promptLength: 0 },
  },
  {
    name: "an HF-style BERT export cut after block 1",
    make: () => fixtureCase("bert"),
    options: { headBlocks: 1, promptLength: 0 },
  },
  {
    name: "a built ViT with /blocks.N/ names, K = 2 of 3",
    make: () => toy(toyVit({ blocks: 3 })),
    options: { headBlocks: 2, promptLength: 0 },
  },
  {
    name: "a built ViT that selects the CLS token with Slice + Squeeze",
    make: () => toy(toyVit({ blocks: 2, selection: "slice" })),
    options: { headBlocks: 1, promptLength: 0 },
  },
  {
    name: "a built ViT whose final LayerNorm is decomposed as opset-14 exports write it",
    make: () => toy(toyVit({ blocks: 2, finalNorm: "decomposed" })),
    options: { headBlocks: 1, promptLength: 0 },
  },
  {
    name: "a built ViT that averages tokens after a decomposed final LayerNorm",
    make: () => toy(toyVit({ blocks: 2, finalNorm: "decomposed", selection: "mean" })),
    options: { headBlocks: 1, promptLength: 0 },
  },
  {
    name: "a built ViT that pools with ReduceMean over tokens",
    make: () => toy(toyVit({ blocks: 2, selection: "mean" })),
    options: { headBlocks: 1, promptLength: 0 },
  },
  {
    name: "a built opset-14 ViT (every LayerNorm decomposed), K = 1 of 2",
    make: () => toy(toyVit({ blocks: 2, opset: 14 })),
    options: { headBlocks: 1, promptLength: 0 },
  },
  {
    name: "a built opset-18 ViT averaging tokens after a decomposed final norm (Reduce axes as inputs)",
    make: () => toy(toyVit({ blocks: 2, opset: 18, finalNorm: "decomposed", selection: "mean" })),
    options: { headBlocks: 1, promptLength: 0 },
  },
  {
    name: "a built opset-18 ViT with a decomposed final norm, CLS selected",
    make: () => toy(toyVit({ blocks: 2, opset: 18, finalNorm: "decomposed" })),
    options: { headBlocks: 1, promptLength: 0 },
  },
  {
    name: "a built BERT with an additive mask, K = 1 of 2",
    make: () => toy(toyBert({ blocks: 2, mask: "additive" })),
    options: { headBlocks: 1, promptLength: 0 },
  },
  {
    name: "a built BERT with a Where-based mask, K = 1 of 3",
    make: () => toy(toyBert({ blocks: 3, mask: "where" })),
    options: { headBlocks: 1, promptLength: 0 },
  },
  {
    name: "a model without known block names, cut by explicit tensor names",
    make: () => toy(toyVit({ blocks: 2, blockPrefix: "/stage_" })),
    options: {
      headBlocks: 0,
      promptLength: 0,
      cutHead: "/stage_0/Add_1_output_0",
      cutTail: "/stage_1/Add_1_output_0",
    },
  },
];

for (const c of reproduceCases) {
  test(`with P = 0 the chain reproduces the logits of ${c.name}`, async () => {
    const mc = c.make();
    const bundle = writeCaseBundle(mc, c.options);
    try {
      const original = await runOn(mc.model, mc.feeds);
      const env = await runChain(chainFiles(bundle), mc.feeds);
      const logits = bundle.manifest.logits;
      assert.deepEqual(env[logits]?.dims, original[logits]?.dims);
      assert.ok(
        maxAbsDiff(env[logits], original[logits]) < 1e-4,
        `max |Δ| ${maxAbsDiff(env[logits], original[logits])}`,
      );
      assert.deepEqual(
        env[bundle.manifest.activations.body]?.dims.length,
        2,
        "the body returns one vector per sample",
      );
    } finally {
      bundle.remove();
    }
  });
}

const promptCases: {
  name: string;
  make: () => ModelCase;
  options: SplitOptions;
  tokens: number;
  width: number;
}[] = [
  {
    name: "the ViT export, P = 3, C = 5, K = 1",
    make: () => fixtureCase("vit"),
    options: { headBlocks: 1, promptLength: 3, numClasses: 5 },
    tokens: 17,
    width: 64,
  },
  {
    name: "the BERT export, P = 2, C = 4, K = 1",
    make: () => fixtureCase("bert"),
    options: { headBlocks: 1, promptLength: 2, numClasses: 4 },
    tokens: 8,
    width: 32,
  },
  {
    name: "the BERT export, P = 2, C = 4, K = 0 with mean pooling",
    make: () => fixtureCase("bert"),
    options: { headBlocks: 0, promptLength: 2, numClasses: 4, pooling: "mean" },
    tokens: 8,
    width: 32,
  },
  {
    name: "the ViT export, P = 2, C = 3, K = 0 with (unmasked) mean pooling",
    make: () => fixtureCase("vit"),
    options: { headBlocks: 0, promptLength: 2, numClasses: 3, pooling: "mean" },
    tokens: 17,
    width: 64,
  },
  {
    name: "a built BERT with a Where-based mask, P = 4, C = 2, K = 1",
    make: () => toy(toyBert({ blocks: 2, mask: "where" })),
    options: { headBlocks: 1, promptLength: 4, numClasses: 2 },
    tokens: 6,
    width: 8,
  },
];

for (const c of promptCases) {
  test(`with prompts, ${c.name}: shapes follow P and C and the chain equals the prompted model`, async () => {
    const mc = c.make();
    const bundle = writeCaseBundle(mc, c.options);
    try {
      const m = bundle.manifest;
      const batch = (Object.values(mc.feeds)[0] as Tensor).dims[0];
      const env = await runChain(chainFiles(bundle), mc.feeds);
      assert.deepEqual(env[m.activations.head]?.dims, [batch, c.tokens + c.options.promptLength, c.width]);
      assert.deepEqual(env[m.activations.body]?.dims, [batch, c.width]);
      assert.deepEqual(env[m.logits]?.dims, [batch, c.options.numClasses]);
      assert.equal(m.numClasses, c.options.numClasses);
      const prompt = m.parameters.find((p) => p.name === PROMPT);
      assert.deepEqual(prompt?.shape, [c.options.promptLength, c.width]);
      assert.equal(prompt?.partition, "head");
      const whole = await runOn(bundle.split.prompted, mc.feeds);
      assert.ok(maxAbsDiff(env[m.logits], whole[m.logits]) < 1e-5);
    } finally {
      bundle.remove();
    }
  });

  test(`with prompts, ${c.name}: the prompt changes the logits`, async () => {
    const mc = c.make();
    const bundle = writeCaseBundle(mc, c.options);
    try {
      const m = bundle.manifest;
      const before = await runChain(chainFiles(bundle), mc.feeds);
      const p = bundle.split.prompted.graph.initializers.get(PROMPT) as Tensor;
      const moved = f32(
        p.dims,
        Array.from(values(p), (v, i) => v + 0.5 * Math.cos(i)),
      );
      const after = await runChain(chainFiles(bundle), { ...mc.feeds, [PROMPT]: moved });
      assert.ok(maxAbsDiff(before[m.logits], after[m.logits]) > 1e-4, "logits moved with the prompt");
    } finally {
      bundle.remove();
    }
  });
}

const maskCases = [
  { name: "the BERT export (additive [B,1,1,S] mask)", make: () => fixtureCase("bert") },
  { name: "a built BERT with a Where-based mask", make: () => toy(toyBert({ blocks: 2, mask: "where" })) },
];

for (const c of maskCases) {
  test(`${c.name}: the mask grows by P ones after position 0 and padded tokens stay masked`, async () => {
    const mc = c.make();
    const p = 3;
    const bundle = writeCaseBundle(mc, { headBlocks: 1, promptLength: p, numClasses: 3 });
    try {
      assert.deepEqual(bundle.manifest.maskInputs, ["attention_mask"]);
      const extended = "sfp/attention_mask_extended";
      const probe = bundle.split.prompted;
      const withMask = {
        ...probe,
        graph: {
          ...probe.graph,
          outputs: [...probe.graph.outputs, { name: extended, dtype: "int64" as const }],
        },
      };
      const out = await runOn(withMask, mc.feeds);
      const mask = mc.feeds["attention_mask"] as Tensor;
      const [b, s] = mask.dims as [number, number];
      const src = values(mask);
      const expected: number[] = [];
      for (let r = 0; r < b; r++) {
        const row = Array.from(src.slice(r * s, (r + 1) * s));
        expected.push(row[0] as number, ...new Array<number>(p).fill(1), ...row.slice(1));
      }
      assert.deepEqual(out[extended]?.dims, [b, s + p]);
      assert.deepEqual(Array.from(values(out[extended])), expected);
      // Changing the token ids under a zero of the mask must not move the logits.
      const ids = mc.feeds["input_ids"] as Tensor;
      const changed = BigInt64Array.from(ids.data as BigInt64Array, (v, i) =>
        src[i] === 0 ? (v + 1n) % 3n : v,
      );
      const env0 = await runChain(chainFiles(bundle), mc.feeds);
      const env1 = await runChain(chainFiles(bundle), { ...mc.feeds, input_ids: { ...ids, data: changed } });
      assert.ok(
        src.some((v) => v === 0),
        "the case has padding",
      );
      assert.ok(maxAbsDiff(env0["logits"], env1["logits"]) < 1e-5);
    } finally {
      bundle.remove();
    }
  });
}
