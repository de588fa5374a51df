// A tensor whose typed *_data field holds another count of values than its dims (float_data of 3 for
// [2,3]), and an external tensor whose range length is not its dims × dtype: readModel padded a short
// typed field with zeros (a weight silently half zero) and the outline pass stepped over both, so
// sfprompt validate passed them. Every reader now refuses them with one message naming the tensor, the
// field or location, and the model file (ADR 0006 amendment 13). Real files, written here.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import {
  externalDataFiles,
  OnnxIoError,
  readModel,
  readModelForSession,
  readModelOutline,
  TensorBytesError,
  writeModel,
  type Model,
} from "@sfprompt/engine";
import { CaseBuilder, single } from "./helpers/case-builder.js";

const dir = mkdtempSync(join(tmpdir(), "engine-typed-payload-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function modelType(): protobuf.Type {
  const src = readFileSync(
    fileURLToPath(new URL("../src/proto/onnx-proto-text.ts", import.meta.url)),
    "utf8",
  );
  const text = src.slice(src.indexOf("`") + 1, src.lastIndexOf("`"));
  return protobuf.parse(text, { keepCase: true }).root.lookupType("onnx.ModelProto");
}

/** A model whose one initializer `w` is `tensor` (a TensorProto object), read by an Add. */
function writeWithInitializer(name: string, tensor: Record<string, unknown>): string {
  const t = modelType();
  const path = join(dir, `${name}.onnx`);
  const graph = {
    name: "g",
    node: [{ op_type: "Add", input: ["w", "w"], output: ["y"] }],
    output: [{ name: "y" }],
    initializer: [{ name: "w", ...tensor }],
  };
  writeFileSync(
    path,
    t.encode(t.fromObject({ ir_version: 8, opset_import: [{ version: 17 }], graph })).finish(),
  );
  return path;
}

/** Every reader of a model file, each of which must refuse it the same way. */
const READERS: Array<[string, (path: string) => unknown]> = [
  ["readModel", readModel],
  ["readModelOutline", (p) => readModelOutline(p)],
  ["readModelOutline with values", (p) => readModelOutline(p, { values: () => true })],
  ["readModelOutline checking external data", (p) => readModelOutline(p, { checkExternalData: true })],
  ["readModelForSession", readModelForSession],
  ["externalDataFiles", externalDataFiles],
];

function assertAllRefuse(path: string, detail: string): void {
  for (const [reader, read] of READERS)
    assert.throws(
      () => read(path),
      (e: unknown) => {
        assert.ok(e instanceof OnnxIoError, `${reader}: ${String(e)}`);
        assert.equal(e.message, `cannot load ONNX model ${path}: ${detail}`, reader);
        assert.ok(e.cause instanceof TensorBytesError, reader);
        return true;
      },
    );
}

const CUT = "the file was cut or changed after it was written";

describe("a typed *_data field of another count than the tensor's dims", () => {
  const cases = [
    {
      name: "float_data of 3 for [2,3] (packed)",
      tensor: { dims: [2, 3], data_type: 1, float_data: [1, 2, 3] },
      detail: `tensor "w" is float32 [2,3], 6 values, but its float_data holds 3: ${CUT}`,
    },
    {
      name: "int64_data of 1 for [2] (packed varints)",
      tensor: { dims: [2], data_type: 7, int64_data: [300] },
      detail: `tensor "w" is int64 [2], 2 values, but its int64_data holds 1: ${CUT}`,
    },
    {
      name: "int32_data of 3 for an int8 [2] (one more)",
      tensor: { dims: [2], data_type: 3, int32_data: [1, -200, 3] },
      detail: `tensor "w" is int8 [2], 2 values, but its int32_data holds 3: ${CUT}`,
    },
    {
      name: "double_data of 1 for [2]",
      tensor: { dims: [2], data_type: 11, double_data: [0.5] },
      detail: `tensor "w" is float64 [2], 2 values, but its double_data holds 1: ${CUT}`,
    },
    {
      name: "no values at all for a scalar",
      tensor: { dims: [], data_type: 1 },
      detail: `tensor "w" is float32 [], 1 value, but its float_data holds 0: ${CUT}`,
    },
  ];
  for (const c of cases)
    it(`is refused by every reader: ${c.name}`, () => {
      assertAllRefuse(writeWithInitializer(c.name.replace(/\W+/g, "-"), c.tensor), c.detail);
    });

  it("of the right count is read as before, packed or not", () => {
    const path = writeWithInitializer("whole", { dims: [2], data_type: 7, int64_data: [300, -1] });
    assert.deepEqual(Array.from(readModel(path).graph.initializers.get("w")!.data as BigInt64Array), [
      300n,
      -1n,
    ]);
    for (const [, read] of READERS) read(path);
  });
});

function mlp(): Model {
  const c = new CaseBuilder("float32");
  const h = c.b.op("Relu", [c.b.op("Gemm", [c.x("x", [2, 8]), c.w("w1", [8, 16]), c.w("b1", [16])])]);
  single(c, "Gemm", [h, c.w("w2", [16, 3]), c.w("b2", [3])]);
  return c.model();
}

describe("an external tensor whose range length is not its dims × dtype", () => {
  /** mlp() with w1 (float32 [8,16], 512 bytes) in weights.bin, its length entry set to `length`. */
  function withLength(name: string, length: number): string {
    const path = join(dir, `${name}.onnx`);
    writeModel(path, mlp(), { externalData: { location: `${name}.bin`, threshold: 64 } });
    const t = modelType();
    const msg = t.toObject(t.decode(readFileSync(path)), { longs: String }) as {
      graph: { initializer: Array<{ name: string; external_data?: Array<{ key: string; value: string }> }> };
    };
    const w1 = msg.graph.initializer.find((i) => i.name === "w1")!;
    const entry = w1.external_data!.find((e) => e.key === "length")!;
    assert.equal(entry.value, String(8 * 16 * 4), "writeModel wrote the whole weight");
    entry.value = String(length);
    writeFileSync(path, t.encode(t.fromObject(msg)).finish());
    return path;
  }

  for (const [what, length] of [
    ["half the weight", 256],
    ["one float more (the data file holds it)", 516],
  ] as const)
    it(`is refused by every reader: ${what}`, () => {
      const name = `length-${length}`;
      const path = withLength(name, length);
      const offset = /** w1 is the first external tensor */ 0;
      assertAllRefuse(
        path,
        `tensor "w1" is float32 [8,16], 512 bytes, but its external data at location "${name}.bin" ` +
          `(offset ${offset}) is ${length} bytes long: the data file or the model was cut or changed after it was written`,
      );
    });
});
