// The splitter on the real MiniLM: it finds the 6 HF-named blocks and the attention_mask input, and
// the partitions it writes (with every gradient graph) chain back to the prompted model and, with no
// prompt, to the unsplit model's mean-pooled embedding.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  f32,
  GraphSession,
  POOLED,
  prepareBundle,
  PROMPT,
  readModel,
  splitModel,
  type Model,
  type PartitionManifest,
  type Tensor,
} from "@sfprompt/engine";
import { ensureMinilmModel } from "@sfprompt/core";
import {
  l2Normalize,
  loadReference,
  maskedMean,
  maxAbsDiff,
  referenceFeeds,
  rows,
  runReference,
} from "./reference.js";

type Env = Record<string, Tensor>;
const ref = loadReference();
const P = 10;

/** Feeds each model the tensors of `env` it declares (defaulted inputs may be absent); adds its outputs. */
async function runChain(models: readonly (Model | string)[], start: Env): Promise<Env> {
  const env: Env = { ...start };
  for (const m of models) {
    const s = await GraphSession.create(m);
    try {
      const feeds: Env = {};
      for (const name of s.inputNames) if (env[name] !== undefined) feeds[name] = env[name];
      Object.assign(env, await s.run(feeds));
    } finally {
      await s.release();
    }
  }
  return env;
}

describe("the MiniLM split by prepareBundle (1 head block, 10 prompts, mean pooling, 4 classes)", () => {
  let dir = "";
  let model = "";
  let manifest: PartitionManifest;
  const file = (f: string): string => join(dir, f);

  before(async () => {
    model = (await ensureMinilmModel({ numClasses: 4 })).path;
    dir = mkdtempSync(join(tmpdir(), "sfp-minilm-"));
    const started = Date.now();
    manifest = prepareBundle({
      model,
      out: dir,
      headBlocks: 1,
      promptLength: P,
      pooling: "mean",
      numClasses: 4,
    });
    console.log(`minilm: prepareBundle in ${Date.now() - started} ms`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("finds 6 hf-encoder blocks, the attention_mask input, and puts 1 block in the head and 5 in the body", () => {
    assert.equal(manifest.source.blocks?.family, "hf-encoder");
    assert.equal(manifest.source.blocks?.count, 6);
    assert.deepEqual(manifest.maskInputs, ["attention_mask"]);
    assert.equal(
      manifest.source.blocks?.cuts[1],
      "/bert/encoder/layer.0/output/LayerNorm/LayerNormalization_output_0",
    );
    assert.equal(manifest.activations.head, manifest.source.blocks?.cuts[1]);
    assert.equal(manifest.activations.body, POOLED);
    assert.deepEqual(
      manifest.parameters.map((p) => [p.name, p.partition, p.shape]),
      [
        [PROMPT, "head", [P, 384]],
        ["classifier.weight", "tail", [4, 384]],
        ["classifier.bias", "tail", [4]],
      ],
    );
    const body = readModel(file(manifest.partitions[1]?.file ?? ""));
    const bodyLayers = new Set(body.graph.nodes.flatMap((n) => /\/layer\.(\d+)\//.exec(n.name)?.[1] ?? []));
    assert.deepEqual([...bodyLayers].sort(), ["1", "2", "3", "4", "5"]);
    assert.deepEqual(
      body.graph.inputs.map((i) => i.name).sort(),
      [manifest.activations.head, "attention_mask"].sort(),
    );
  });

  it("writes the head, body, tail, local and full gradient graphs", () => {
    const g = manifest.gradients;
    const files = [
      g.head?.file,
      g.body.recompute.file,
      g.body.saveActivations.forward.file,
      g.body.saveActivations.backward.file,
      g.tail.file,
      g.local.file,
      g.full?.file,
    ];
    for (const f of files) assert.ok(f !== undefined && existsSync(file(f)), `${f} exists`);
    assert.deepEqual(g.head?.wrt, [PROMPT]);
  });

  it("the chain head → body → tail gives the logits of the whole prompted model", async () => {
    const env = await runChain(
      manifest.partitions.map((p) => file(p.file)),
      referenceFeeds(ref),
    );
    const batch = ref.inputIds.length;
    const seq = ref.inputIds[0]?.length ?? 0;
    assert.deepEqual(env[manifest.activations.head]?.dims, [batch, seq + P, 384]);
    assert.deepEqual(env[POOLED]?.dims, [batch, 384]);
    const whole = await runReference(file(manifest.full?.file ?? ""), ref);
    const [a, b] = [env[manifest.logits], whole[manifest.logits]];
    assert.ok(a !== undefined && b !== undefined);
    assert.deepEqual(a.dims, [batch, 4]);
    assert.ok(maxAbsDiff(rows(a), rows(b)) < 1e-4, `max |Δ| ${maxAbsDiff(rows(a), rows(b))}`);
  });

  it("the head gradient graph gives a finite, non-zero prompt gradient", async () => {
    const g = manifest.gradients.head;
    assert.ok(g !== undefined && g !== null);
    const head = await runChain([file(manifest.partitions[0]?.file ?? "")], referenceFeeds(ref));
    const a = head[manifest.activations.head] as Tensor;
    const upstream = f32(
      a.dims,
      Array.from(a.data as Float32Array, (_, i) => Math.sin(i)),
    );
    const out = await runChain([file(g.file)], { ...head, [`grad_${manifest.activations.head}`]: upstream });
    const grad = out[`grad_${PROMPT}`];
    assert.deepEqual(grad?.dims, [P, 384]);
    const v = Array.from(grad?.data as Float32Array);
    assert.ok(v.every(Number.isFinite) && v.some((x) => Math.abs(x) > 1e-6));
  });
});

describe("the MiniLM split with no prompt and mean pooling", () => {
  it("the body's pooled vector is the unsplit model's masked mean, i.e. the sentence-transformers embedding", async () => {
    const path = (await ensureMinilmModel({ numClasses: 4 })).path;
    const split = splitModel(readModel(path), { headBlocks: 2, promptLength: 0, pooling: "mean" });
    assert.deepEqual(split.maskInputs, ["attention_mask"]);
    const env = await runChain([split.head, split.body], referenceFeeds(ref));
    const pooled = env[POOLED];
    assert.ok(pooled !== undefined);
    const unsplit = await runReference(path, ref);
    const mean = maskedMean(unsplit["last_hidden_state"] as Tensor, ref.attentionMask);
    assert.ok(maxAbsDiff(rows(pooled), mean) < 1e-5, `max |Δ| ${maxAbsDiff(rows(pooled), mean)}`);
    assert.ok(maxAbsDiff(rows(pooled).map(l2Normalize), ref.embeddings) < 1e-4);
  });
});
