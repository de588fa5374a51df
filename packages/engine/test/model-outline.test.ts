// readModelOutline: a model file's graph without its weights gives what readModel gives (nodes,
// inputs, outputs, value_info, every initializer's dtype and dims, the values asked for), on the
// torch ViT and BERT exports, a model with external data and one with the typed *_data fields;
// and the same errors as readModel on files that are no model.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import {
  externalDataFiles,
  readModel,
  readModelOutline,
  writeModel,
  type Model,
  type ModelOutline,
} from "@sfprompt/engine";
import { CaseBuilder, single } from "./helpers/case-builder.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/torch/", import.meta.url));
const tmp = (): string => mkdtempSync(join(tmpdir(), "engine-outline-"));

/** Everything of a model but its initializers' values. */
function structure(m: Model): unknown {
  const { initializers, ...graph } = m.graph;
  return {
    irVersion: m.irVersion,
    opsetImports: m.opsetImports,
    extra: m.extra,
    graph,
    initializers: [...initializers].map(([n, t]) => [n, t.dtype, [...t.dims], t.onnxDataType]),
  };
}

function outlineStructure(o: ModelOutline): unknown {
  const { initializers: _values, ...graph } = o.model.graph;
  return {
    irVersion: o.model.irVersion,
    opsetImports: o.model.opsetImports,
    extra: o.model.extra,
    graph,
    initializers: [...o.initializers].map(([n, t]) => [n, t.dtype, [...t.dims], t.onnxDataType]),
  };
}

/** Same structure as readModel's, no values unless asked, and the values asked for equal to its. */
function assertSameAsReadModel(path: string): ModelOutline {
  const full = readModel(path);
  const bare = readModelOutline(path);
  assert.deepEqual(outlineStructure(bare), structure(full));
  assert.equal(bare.model.graph.initializers.size, 0, "no values read unless asked");
  const names = [...full.graph.initializers.keys()];
  assert.ok(names.length > 1, path);
  const asked = new Set(names.filter((_, i) => i % 2 === 0));
  const some = readModelOutline(path, { values: (n) => asked.has(n) });
  assert.deepEqual([...some.model.graph.initializers.keys()], [...asked]);
  for (const n of asked)
    assert.deepEqual(some.model.graph.initializers.get(n), full.graph.initializers.get(n), n);
  const all = readModelOutline(path, { values: () => true });
  assert.deepEqual(all.model, full, "every value asked for: readModel's model");
  return bare;
}

function mlp(): Model {
  const c = new CaseBuilder("float32");
  const h = c.b.op("Relu", [c.b.op("Gemm", [c.x("x", [2, 8]), c.w("w1", [8, 16]), c.w("b1", [16])])]);
  single(c, "Gemm", [h, c.w("w2", [16, 3]), c.w("b2", [3])]);
  return c.model();
}

function modelType(): protobuf.Type {
  const src = readFileSync(
    fileURLToPath(new URL("../src/proto/onnx-proto-text.ts", import.meta.url)),
    "utf8",
  );
  const text = src.slice(src.indexOf("`") + 1, src.lastIndexOf("`"));
  return protobuf.parse(text, { keepCase: true }).root.lookupType("onnx.ModelProto");
}

describe("readModelOutline", () => {
  it("reads the torch ViT and BERT exports as readModel does, without their weights", () => {
    for (const name of ["vit", "bert"]) assertSameAsReadModel(join(FIXTURES, name, "model.onnx"));
  });

  it("gives external initializers' locations and reads their values from the data file", () => {
    const dir = tmp();
    const path = join(dir, "mlp.onnx");
    const files = writeModel(path, mlp(), { externalData: { location: "weights.bin", threshold: 64 } });
    const o = assertSameAsReadModel(path);
    const w1 = o.initializers.get("w1");
    assert.equal(w1?.external?.["location"], "weights.bin");
    assert.equal(w1?.external?.["length"], String(8 * 16 * 4));
    assert.equal(o.initializers.get("b2")?.external, undefined, "below the threshold: inline");
    assert.deepEqual(externalDataFiles(path), files);
  });

  it("steps over float_data, int64_data and the other typed fields, and reads them when asked", () => {
    const dir = tmp();
    const path = join(dir, "typed.onnx");
    const t = modelType();
    writeFileSync(
      path,
      t
        .encode(
          t.fromObject({
            ir_version: 8,
            opset_import: [{ version: 17 }],
            graph: {
              name: "g",
              node: [{ op_type: "Add", input: ["f", "f"], output: ["y"] }],
              output: [{ name: "y" }],
              initializer: [
                { name: "f", dims: [2], data_type: 1, float_data: [1.5, -2] },
                { name: "d", dims: [2], data_type: 11, double_data: [0.25, 1e300] },
                { name: "l", dims: [2], data_type: 7, int64_data: [-3, "9007199254740993"] },
                { name: "i", dims: [2], data_type: 6, int32_data: [7, -8] },
                { name: "s", dims: [1], data_type: 8, string_data: [Buffer.from("a")] },
                { name: "u", dims: [1], data_type: 13, uint64_data: [5] },
              ],
            },
          }),
        )
        .finish(),
    );
    assertSameAsReadModel(path);
  });

  it("refuses what readModel refuses, with its message", () => {
    const dir = tmp();
    const model = join(dir, "mlp.onnx");
    writeModel(model, mlp());
    const bytes = readFileSync(model);
    const cases: Record<string, Buffer | undefined> = {
      missing: undefined,
      "not-onnx.pt": Buffer.concat([Buffer.from("PK\u0003\u0004"), Buffer.alloc(64, 0xff)]),
      "truncated.onnx": bytes.subarray(0, bytes.length - 40),
      "empty.onnx": Buffer.alloc(0),
    };
    for (const [name, content] of Object.entries(cases)) {
      const path = join(dir, name);
      if (content !== undefined) writeFileSync(path, content);
      const expected = message(() => readModel(path));
      assert.match(expected, /^OnnxIoError: cannot (read|load) ONNX model /, name);
      assert.equal(
        message(() => readModelOutline(path)),
        expected,
        name,
      );
    }
    // a folder opens (open(2) allows it) and fails at its first read, EISDIR: said as readModel says it
    const folder = join(dir, "folder.onnx");
    mkdirSync(folder);
    assert.match(
      message(() => readModel(folder)),
      /\(EISDIR\): it is a folder/,
    );
    assert.equal(
      message(() => readModelOutline(folder)),
      message(() => readModel(folder)),
    );
    const missing = join(dir, "missing");
    assert.equal(
      message(() => externalDataFiles(missing)),
      message(() => readModel(missing)),
    );
  });
});

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
  return "no error";
}
