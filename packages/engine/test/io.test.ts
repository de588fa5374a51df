// ONNX I/O: round trips of real exports and built models, external data, the typed *_data fields,
// and fields the IR does not model (functions, metadata, other-domain opsets).
import assert from "node:assert/strict";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import protobuf from "protobufjs";
import {
  decodeModel,
  encodeModel,
  externalDataFiles,
  readModel,
  runOnce,
  writeModel,
  type Model,
  type Tensor,
} from "@sfprompt/engine";
import { CaseBuilder, single } from "./helpers/case-builder.js";
import { randomTensor, Rng } from "./helpers/random.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/torch/", import.meta.url));
const tmp = (): string => mkdtempSync(join(tmpdir(), "engine-io-"));

function values(t: Tensor | undefined): number[] {
  assert.ok(t !== undefined);
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}

function mlp(): { model: Model; feeds: Record<string, Tensor> } {
  const c = new CaseBuilder("float32");
  const h = c.b.op("Relu", [c.b.op("Gemm", [c.x("x", [2, 8]), c.w("w1", [8, 16]), c.w("b1", [16])])]);
  single(c, "Gemm", [h, c.w("w2", [16, 3]), c.w("b2", [3])]);
  return { model: c.model(), feeds: c.feeds };
}

describe("ONNX I/O", () => {
  it("re-encodes the torch.onnx ViT export so that ORT computes the same logits", async () => {
    const path = join(FIXTURES, "vit/model.onnx");
    const m = readModel(path);
    assert.equal(m.irVersion, 8);
    assert.deepEqual(m.opsetImports, [{ domain: "", version: 17 }]);
    const again = decodeModel(encodeModel(m));
    assert.equal(again.graph.nodes.length, m.graph.nodes.length);
    assert.deepEqual(
      values(again.graph.initializers.get("conv_proj.weight")),
      values(m.graph.initializers.get("conv_proj.weight")),
    );
    const x = randomTensor(new Rng(1), "float32", [2, 3, 32, 32]);
    const a = await runOnce(path, { pixel_values: x });
    const b = await runOnce(again, { pixel_values: x });
    assert.deepEqual(values(b["logits"]), values(a["logits"]));
  });

  it("keeps symbolic dims of graph inputs", () => {
    const m = readModel(join(FIXTURES, "bert/model.onnx"));
    assert.deepEqual(
      m.graph.inputs.map((i) => i.shape),
      [
        ["batch", "sequence"],
        ["batch", "sequence"],
        ["batch", "sequence"],
      ],
    );
  });

  it("writes large initializers to an external data file that ORT and readModel both load", async () => {
    const { model, feeds } = mlp();
    const dir = tmp();
    const path = join(dir, "mlp.onnx");
    writeModel(path, model, { externalData: { location: "weights.bin", threshold: 64 } });
    const data = statSync(join(dir, "weights.bin")).size;
    assert.ok(data >= (8 * 16 + 16 * 3) * 4, `data file holds the big weights (${data} bytes)`);
    assert.ok(statSync(path).size < 1024, "the model file itself stays small");
    const back = readModel(path);
    for (const [name, t] of model.graph.initializers)
      assert.deepEqual(values(back.graph.initializers.get(name)), values(t), name);
    const session = await ort.InferenceSession.create(path);
    const viaOrt = await session.run({
      x: new ort.Tensor("float32", feeds["x"]?.data as Float32Array, [2, 8]),
    });
    await session.release();
    const inMemory = await runOnce(model, feeds);
    assert.deepEqual(Array.from(viaOrt["y"]?.data as Float32Array), values(inMemory["y"]));
  });

  it("names the external data files a model keeps its weights in, without reading them", () => {
    const { model } = mlp();
    const dir = tmp();
    const external = join(dir, "mlp.onnx");
    const files = writeModel(external, model, { externalData: { location: "weights.bin", threshold: 64 } });
    assert.deepEqual(files, ["weights.bin"], "writeModel reports the data file it wrote");
    assert.deepEqual(externalDataFiles(external), ["weights.bin"]);
    const inline = join(dir, "inline.onnx");
    assert.deepEqual(writeModel(inline, model), []);
    assert.deepEqual(externalDataFiles(inline), []);
    // nothing below the threshold: no data file written, none named
    const small = join(dir, "small.onnx");
    assert.deepEqual(writeModel(small, model, { externalData: { threshold: 1 << 20 } }), []);
    assert.equal(existsSync(join(dir, "small.onnx.data")), false);
    assert.deepEqual(externalDataFiles(small), []);
    const notOnnx = join(dir, "model.pt");
    writeFileSync(notOnnx, Buffer.concat([Buffer.from("PK\u0003\u0004"), Buffer.alloc(64, 0xff)]));
    assert.throws(() => externalDataFiles(notOnnx), /^OnnxIoError: cannot load ONNX model \S+model\.pt: /);
  });

  it("writeModel refuses an external data location outside the model's folder, writing nothing", () => {
    // ADR 0006 amendment 12: it wrote <folder>/../w.bin and a model naming it, which every reader refuses
    const { model } = mlp();
    const cases: { location: string; why: string }[] = [
      { location: "../w.bin", why: 'a path that climbs out of it with "..", outside' },
      { location: "sub/../../w.bin", why: 'a path that climbs out of it with "..", outside' },
      { location: "/tmp/w.bin", why: "an absolute path, outside" },
      { location: ".", why: "the model's folder itself, not a file in" },
      { location: "", why: "an empty location, not a file in" },
    ];
    for (const c of cases) {
      const root = tmp();
      const path = join(root, "m", "mlp.onnx");
      assert.throws(
        () => writeModel(path, model, { externalData: { location: c.location, threshold: 64 } }),
        (e: Error) =>
          e.name === "OnnxIoError" &&
          e.message ===
            `cannot write ONNX model ${path}: externalData.location "${c.location}" is ${c.why} the model's folder; ` +
              'ONNX external data must be a file in the model\'s folder: give a file name relative to it (such as "mlp.onnx.data")',
        c.location,
      );
      assert.equal(existsSync(path), false, `${c.location}: no model written`);
      assert.equal(existsSync(join(root, "w.bin")), false, `${c.location}: no data written outside`);
    }
  });

  it("writeModel does not write through a symbolic link at the location to a file outside the folder", () => {
    // ADR 0006 amendment 16: a link there (a Hugging Face snapshot's data file, a link left by hand)
    // was followed, the file it led to overwritten with this model's weights
    const { model } = mlp();
    const cases: { name: string; link: (outside: string) => string; to: (outside: string) => string }[] = [
      { name: "a link to a file", link: (o) => join(o, "blob"), to: (o) => join(o, "blob") },
      { name: "a dangling link", link: (o) => join(o, "none"), to: (o) => join(o, "none") },
      { name: "a link through a linked folder", link: (o) => o, to: (o) => join(o, "w.bin") },
    ];
    for (const c of cases) {
      const root = tmp();
      const outside = join(root, "elsewhere");
      mkdirSync(outside);
      writeFileSync(join(outside, "blob"), "another model's weights");
      const dir = join(root, "m");
      mkdirSync(dir);
      const linked = c.name === "a link through a linked folder";
      symlinkSync(c.link(outside), join(dir, linked ? "sub" : "w.bin"));
      const location = linked ? "sub/w.bin" : "w.bin";
      const path = join(dir, "mlp.onnx");
      assert.throws(
        () => writeModel(path, model, { externalData: { location, threshold: 64 } }),
        (e: Error) =>
          e.name === "OnnxIoError" &&
          e.message ===
            `cannot write ONNX model ${path}: externalData.location "${location}" is a symbolic link to ${c.to(outside)}, ` +
              `outside the model's folder ${dir}; writing through it would overwrite a file elsewhere: ` +
              `remove the link (rm ${join(dir, linked ? "sub" : "w.bin")}) or give another location`,
        c.name,
      );
      assert.equal(existsSync(path), false, `${c.name}: no model written`);
      assert.equal(readFileSync(join(outside, "blob"), "utf8"), "another model's weights", c.name);
      assert.deepEqual(readdirSync(outside).sort(), ["blob"], `${c.name}: nothing created outside`);
    }
  });

  it("writeModel writes the file a link at the location leads to inside the folder, as every reader reads it", () => {
    const { model } = mlp();
    const dir = tmp();
    mkdirSync(join(dir, "data"));
    writeFileSync(join(dir, "data", "w.bin"), "");
    symlinkSync(join("data", "w.bin"), join(dir, "w.bin"));
    const path = join(dir, "mlp.onnx");
    assert.deepEqual(writeModel(path, model, { externalData: { location: "w.bin", threshold: 64 } }), [
      "w.bin",
    ]);
    assert.ok(lstatSync(join(dir, "w.bin")).isSymbolicLink(), "the link stays");
    assert.ok(statSync(join(dir, "data", "w.bin")).size > 0, "its target holds the weights");
    assert.deepEqual(
      values(readModel(path).graph.initializers.get("w1")!),
      values(model.graph.initializers.get("w1")!),
    );
  });

  it("reads external data given by location only (whole file) and by offset and length", () => {
    const dir = tmp();
    writeFileSync(join(dir, "a.bin"), Buffer.from(Float32Array.of(1, 2, 3).buffer));
    writeFileSync(
      join(dir, "b.bin"),
      Buffer.concat([Buffer.alloc(8), Buffer.from(Float64Array.of(4, 5).buffer)]),
    );
    const ext = (entries: [string, string][]): unknown => entries.map(([key, value]) => ({ key, value }));
    const bytes = encodeRaw({
      ir_version: 8,
      opset_import: [{ version: 17 }],
      graph: {
        name: "g",
        initializer: [
          {
            name: "a",
            dims: [3],
            data_type: 1,
            data_location: 1,
            external_data: ext([["location", "a.bin"]]),
          },
          {
            name: "b",
            dims: [2],
            data_type: 11,
            data_location: 1,
            external_data: ext([
              ["location", "b.bin"],
              ["offset", "8"],
              ["length", "16"],
            ]),
          },
        ],
      },
    });
    writeFileSync(join(dir, "m.onnx"), bytes);
    const m = readModel(join(dir, "m.onnx"));
    assert.deepEqual(values(m.graph.initializers.get("a")), [1, 2, 3]);
    assert.deepEqual(values(m.graph.initializers.get("b")), [4, 5]);
    assert.throws(() => decodeModel(bytes), /load the model from a file path/);
  });

  it("reads float_data, double_data, int64_data and int32_data tensors", () => {
    const m = decodeModel(
      encodeRaw({
        ir_version: 8,
        graph: {
          initializer: [
            { name: "f", dims: [2], data_type: 1, float_data: [1.5, -2] },
            { name: "d", dims: [2], data_type: 11, double_data: [0.25, 1e300] },
            { name: "l", dims: [2], data_type: 7, int64_data: [-3, 9007199254740993n.toString()] },
            { name: "i", dims: [2], data_type: 6, int32_data: [7, -8] },
            { name: "h", dims: [1], data_type: 10, int32_data: [0x3c00] },
            { name: "b", dims: [2], data_type: 9, int32_data: [1, 0] },
          ],
        },
      }),
    );
    const t = (n: string): Tensor => m.graph.initializers.get(n) as Tensor;
    assert.deepEqual(Array.from(t("f").data as Float32Array), [1.5, -2]);
    assert.deepEqual(Array.from(t("d").data as Float64Array), [0.25, 1e300]);
    assert.deepEqual(Array.from(t("l").data as BigInt64Array), [-3n, 9007199254740993n]);
    assert.deepEqual(Array.from(t("i").data as Int32Array), [7, -8]);
    assert.deepEqual([t("h").dtype, Array.from(t("h").data as Uint16Array)], ["float16", [0x3c00]]);
    assert.deepEqual([t("b").dtype, Array.from(t("b").data as Uint8Array)], ["bool", [1, 0]]);
  });

  it("keeps functions, metadata_props and other-domain opset imports through a round trip", () => {
    const bytes = encodeRaw({
      ir_version: 10,
      opset_import: [
        { version: 21 },
        { domain: "com.microsoft", version: 1 },
        { domain: "local", version: 1 },
      ],
      metadata_props: [{ key: "author", value: "tests" }],
      functions: [
        {
          name: "Twice",
          domain: "local",
          input: ["x"],
          output: ["y"],
          node: [{ op_type: "Add", input: ["x", "x"], output: ["y"] }],
        },
      ],
      graph: {
        name: "g",
        node: [{ op_type: "Twice", domain: "local", input: ["a"], output: ["b"], name: "t" }],
      },
    });
    const m = decodeModel(encodeModel(decodeModel(bytes)));
    assert.deepEqual(m.opsetImports, [
      { domain: "", version: 21 },
      { domain: "com.microsoft", version: 1 },
      { domain: "local", version: 1 },
    ]);
    const raw = decodeRaw(encodeModel(m));
    assert.equal((raw["functions"] as { name: string }[])[0]?.name, "Twice");
    assert.deepEqual(raw["metadata_props"], [{ key: "author", value: "tests" }]);
    assert.equal(m.graph.nodes[0]?.domain, "local");
  });
});

function modelType(): protobuf.Type {
  const src = readFileSync(
    fileURLToPath(new URL("../src/proto/onnx-proto-text.ts", import.meta.url)),
    "utf8",
  );
  const text = src.slice(src.indexOf("`") + 1, src.lastIndexOf("`"));
  return protobuf.parse(text, { keepCase: true }).root.lookupType("onnx.ModelProto");
}

function encodeRaw(obj: Record<string, unknown>): Uint8Array {
  const t = modelType();
  return t.encode(t.fromObject(obj)).finish();
}

function decodeRaw(bytes: Uint8Array): Record<string, unknown> {
  const t = modelType();
  return t.toObject(t.decode(bytes), { longs: Number }) as Record<string, unknown>;
}
